# IAM roles for service accounts (IRSA). Each role trusts exactly one Kubernetes service account
# through the cluster's OIDC provider and carries only what that component does with AWS:
# the operator administers the topics of its namespace, each service reads and writes the streams
# it owns, the Cluster Autoscaler resizes this cluster's node groups. No wildcard actions.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
  account   = data.aws_caller_identity.current.account_id
  # MSK IAM resource ARNs: topic/<cluster-name>/<cluster-uuid>/<topic>, group/... likewise.
  kafka_base = "arn:${local.partition}:kafka:${local.region}:${local.account}"
  topic_base = "${local.kafka_base}:topic/${var.msk_cluster_name}/${var.msk_cluster_uuid}"
  group_base = "${local.kafka_base}:group/${var.msk_cluster_name}/${var.msk_cluster_uuid}"
  # DESIGN §3: topics are qsr.<namespace>.<program>.<stream> with .retry and .dlq companions.
  prefix      = "qsr.${var.namespace}"
  stream_arns = { for stream in distinct(flatten([for s in values(var.service_streams) : concat(s.produce, s.consume)])) : stream => ["${local.topic_base}/${local.prefix}.*.${stream}", "${local.topic_base}/${local.prefix}.*.${stream}.*"] }

  # What a platform service may do: produce its own streams, consume the ones it subscribes to,
  # park failures on their .retry/.dlq companions, and commit offsets of its own consumer group.
  service_produce_actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData", "kafka-cluster:WriteDataIdempotently"]
  service_consume_actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
  service_park_actions    = ["kafka-cluster:WriteData"]
  service_group_actions   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]

  connect = {
    sid       = "ConnectToTheCluster"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [var.msk_cluster_arn]
  }

  operator_statements = [
    local.connect,
    {
      sid = "AdministerTheNamespaceTopics"
      actions = [
        "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic",
        "kafka-cluster:DeleteTopic", "kafka-cluster:DescribeTopicDynamicConfiguration",
        "kafka-cluster:AlterTopicDynamicConfiguration",
      ]
      resources = ["${local.topic_base}/${local.prefix}.*"]
    },
    {
      sid       = "PublishStoreConfiguration"
      actions   = ["kafka-cluster:WriteData", "kafka-cluster:WriteDataIdempotently"]
      resources = ["${local.topic_base}/${local.prefix}.*.stores"]
    },
    {
      sid       = "ReadConsumerLagForAutoscaling"
      actions   = ["kafka-cluster:DescribeGroup"]
      resources = ["${local.group_base}/qsr-${var.namespace}-*"]
    },
  ]

  service_statements = {
    for service, streams in var.service_streams : service => concat(
      [local.connect],
      length(streams.produce) == 0 ? [] : [{
        sid       = "ProduceOwnStreams"
        actions   = local.service_produce_actions
        resources = flatten([for stream in streams.produce : local.stream_arns[stream]])
      }],
      length(streams.consume) == 0 ? [] : [
        {
          sid       = "ConsumeSubscribedStreams"
          actions   = local.service_consume_actions
          resources = flatten([for stream in streams.consume : local.stream_arns[stream]])
        },
        {
          sid       = "ParkFailedMessages"
          actions   = local.service_park_actions
          resources = flatten([for stream in streams.consume : ["${local.topic_base}/${local.prefix}.*.${stream}.retry", "${local.topic_base}/${local.prefix}.*.${stream}.dlq"]])
        },
        {
          sid       = "OwnConsumerGroup"
          actions   = local.service_group_actions
          resources = ["${local.group_base}/qsr-${var.namespace}-${service}*"]
        },
      ],
    )
  }

  autoscaler_statements = [
    {
      # These Describe calls have no resource-level permissions in IAM: "*" is the only resource.
      sid = "DiscoverNodeGroups"
      actions = [
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
      ]
      resources = ["*"]
    },
    {
      sid       = "DescribeOwnNodeGroups"
      actions   = ["eks:DescribeNodegroup"]
      resources = ["arn:${local.partition}:eks:${local.region}:${local.account}:nodegroup/${var.eks_cluster_name}/*"]
    },
    {
      sid       = "ResizeOwnNodeGroups"
      actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
      resources = ["arn:${local.partition}:autoscaling:${local.region}:${local.account}:autoScalingGroup:*:autoScalingGroupName/eks-${var.eks_cluster_name}-*"]
      condition = { test = "StringEquals", variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.eks_cluster_name}", values = ["owned"] }
    },
  ]

  roles = merge(
    { operator = { namespace = var.namespace, service_account = "qsr-operator", statements = local.operator_statements } },
    { for service, statements in local.service_statements : service => { namespace = var.namespace, service_account = "qsr-${service}", statements = statements } },
    { cluster-autoscaler = { namespace = "kube-system", service_account = "cluster-autoscaler", statements = local.autoscaler_statements } },
  )
}

data "aws_iam_policy_document" "trust" {
  for_each = local.roles
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "permissions" {
  for_each = local.roles
  dynamic "statement" {
    for_each = each.value.statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
      dynamic "condition" {
        for_each = lookup(statement.value, "condition", null) == null ? [] : [statement.value.condition]
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role" "this" {
  for_each             = local.roles
  name                 = "${var.name}-${each.key}"
  description          = "IRSA role of ${each.value.namespace}/${each.value.service_account}"
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 3600
  tags                 = merge(var.tags, { "qsr.io/service-account" = "${each.value.namespace}/${each.value.service_account}" })
}

resource "aws_iam_policy" "this" {
  for_each    = local.roles
  name        = "${var.name}-${each.key}"
  description = "What ${each.value.namespace}/${each.value.service_account} may do"
  policy      = data.aws_iam_policy_document.permissions[each.key].json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each   = local.roles
  role       = aws_iam_role.this[each.key].name
  policy_arn = aws_iam_policy.this[each.key].arn
}
