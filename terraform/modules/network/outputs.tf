output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR of the VPC (security groups allow service ports from it)."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "The three private subnets: EKS nodes, MSK brokers, Aurora, ElastiCache."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "The three public subnets: NAT gateways and internet-facing load balancers only."
  value       = aws_subnet.public[*].id
}
