# Amazon MSK for the platform's topics: IAM authentication only (SASL/IAM on 9098), TLS between
# clients and brokers and inside the cluster, a customer-managed key at rest, no public access,
# and broker-side topic auto-creation off because the operator owns every topic (DESIGN §3).

resource "aws_security_group" "msk" {
  name        = "${var.name}-msk"
  description = "MSK brokers: SASL/IAM over TLS from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-msk" })
}

resource "aws_vpc_security_group_ingress_rule" "iam_tls" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.msk.id
  description                  = "Kafka SASL/IAM over TLS from cluster workloads"
  referenced_security_group_id = each.key
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  tags                         = var.tags
}

resource "aws_msk_configuration" "this" {
  name           = "${var.name}-msk"
  kafka_versions = [var.kafka_version]
  description    = "qsr-platform broker defaults"
  server_properties = join("\n", [
    "auto.create.topics.enable=false",
    "default.replication.factor=3",
    "min.insync.replicas=2",
    "unclean.leader.election.enable=false",
    "delete.topic.enable=true",
  ])
}

resource "aws_cloudwatch_log_group" "brokers" {
  name              = "/qsr/${var.name}/msk-brokers"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count
  enhanced_monitoring    = "PER_TOPIC_PER_BROKER"

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.private_subnet_ids
    security_groups = [aws_security_group.msk.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_gib
      }
    }
    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam   = true
      scram = false
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }
      node_exporter {
        enabled_in_broker = true
      }
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.brokers.name
      }
    }
  }

  tags = var.tags
}
