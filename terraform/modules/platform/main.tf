# Everything one environment needs in AWS, composed from the modules: keys, network, EKS, MSK,
# Aurora, ElastiCache, ECR and the IRSA roles. envs/dev and envs/prod differ only in sizes.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  region      = data.aws_region.current.region
  account_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}"
  keys = {
    eks         = { description = "EKS Secrets envelope encryption", services = [], roles = [] }
    ebs         = { description = "EKS node volumes", services = [], roles = ["${local.account_arn}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"] }
    msk         = { description = "MSK data at rest", services = [], roles = [] }
    aurora      = { description = "Aurora storage, Performance Insights, master secret", services = [], roles = [] }
    elasticache = { description = "ElastiCache data at rest and AUTH secret", services = [], roles = [] }
    ecr         = { description = "ECR images", services = [], roles = [] }
    logs        = { description = "CloudWatch log groups", services = ["logs.${local.region}.amazonaws.com"], roles = [] }
  }
}

module "kms" {
  source             = "../kms"
  for_each           = local.keys
  name               = "${var.name}-${each.key}"
  description        = "${var.name}: ${each.value.description}"
  service_principals = each.value.services
  role_principals    = each.value.roles
  tags               = var.tags
}

module "network" {
  source             = "../network"
  name               = var.name
  cidr_block         = var.vpc_cidr_block
  availability_zones = [for suffix in ["a", "b", "c"] : "${local.region}${suffix}"]
  single_nat_gateway = var.single_nat_gateway
  logs_kms_key_arn   = module.kms["logs"].key_arn
  tags               = var.tags
}

module "eks" {
  source              = "../eks"
  name                = var.name
  kubernetes_version  = var.kubernetes_version
  vpc_id              = module.network.vpc_id
  vpc_cidr_block      = module.network.vpc_cidr_block
  private_subnet_ids  = module.network.private_subnet_ids
  public_access_cidrs = var.eks_public_access_cidrs
  secrets_kms_key_arn = module.kms["eks"].key_arn
  ebs_kms_key_arn     = module.kms["ebs"].key_arn
  logs_kms_key_arn    = module.kms["logs"].key_arn
  node_groups         = var.node_groups
  tags                = var.tags
}

module "msk" {
  source                    = "../msk"
  name                      = var.name
  broker_instance_type      = var.msk_broker_instance_type
  broker_volume_gib         = var.msk_broker_volume_gib
  vpc_id                    = module.network.vpc_id
  private_subnet_ids        = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  kms_key_arn               = module.kms["msk"].key_arn
  logs_kms_key_arn          = module.kms["logs"].key_arn
  tags                      = var.tags
}

module "aurora" {
  source                    = "../aurora"
  name                      = var.name
  instance_class            = var.aurora_instance_class
  instance_count            = var.aurora_instance_count
  deletion_protection       = var.deletion_protection
  vpc_id                    = module.network.vpc_id
  private_subnet_ids        = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  kms_key_arn               = module.kms["aurora"].key_arn
  tags                      = var.tags
}

module "elasticache" {
  source                    = "../elasticache"
  name                      = var.name
  node_type                 = var.cache_node_type
  node_count                = var.cache_node_count
  vpc_id                    = module.network.vpc_id
  private_subnet_ids        = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  kms_key_arn               = module.kms["elasticache"].key_arn
  logs_kms_key_arn          = module.kms["logs"].key_arn
  tags                      = var.tags
}

module "ecr" {
  source      = "../ecr"
  name        = "${var.name}/qsr-platform"
  kms_key_arn = module.kms["ecr"].key_arn
  tags        = var.tags
}

module "irsa" {
  source            = "../irsa"
  name              = var.name
  namespace         = var.namespace
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  eks_cluster_name  = module.eks.cluster_name
  msk_cluster_arn   = module.msk.cluster_arn
  msk_cluster_name  = module.msk.cluster_name
  msk_cluster_uuid  = module.msk.cluster_uuid
  tags              = var.tags
}
