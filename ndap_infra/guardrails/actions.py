"""Action sets the guardrails and the data-scientist boundary share."""

from __future__ import annotations

# Changes to a role that could widen what it can do or who can use it.
ROLE_MUTATIONS = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)

# Changes to a managed policy document.
POLICY_MUTATIONS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)

# Who people are and how they sign in: identity providers (SAML, OIDC for CI).
IDENTITY_PROVIDER_MUTATIONS = (
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:CreateSAMLProvider",
    "iam:DeleteSAMLProvider",
    "iam:UpdateSAMLProvider",
)

# Stopping, deleting or reconfiguring the security baseline (account-wide services).
BASELINE_SERVICE_CHANGES = (
    "access-analyzer:DeleteAnalyzer",
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:PutInsightSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
    "config:DeleteConfigRule",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:DeleteRetentionConfiguration",
    "config:PutConfigurationRecorder",
    "config:PutDeliveryChannel",
    "config:StopConfigurationRecorder",
    "ec2:DisableEbsEncryptionByDefault",
    "ec2:ModifyEbsDefaultKmsKeyId",
    "ec2:ResetEbsDefaultKmsKeyId",
    "guardduty:CreateFilter",
    "guardduty:DeleteDetector",
    "guardduty:DeleteIPSet",
    "guardduty:DeleteThreatIntelSet",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:UpdateDetector",
    "iam:DeleteAccountPasswordPolicy",
    "iam:UpdateAccountPasswordPolicy",
    "s3:PutAccountPublicAccessBlock",
    "securityhub:BatchDisableStandards",
    "securityhub:DeleteInvitations",
    "securityhub:DisableSecurityHub",
    "securityhub:DisassociateFromMasterAccount",
    "securityhub:UpdateStandardsControl",
)

# Changes to the baseline's named resources (alarms, log groups, topic, log bucket, keys).
BASELINE_RESOURCE_CHANGES = (
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:PutMetricAlarm",
    "logs:DeleteLogGroup",
    "logs:DeleteMetricFilter",
    "logs:DeleteRetentionPolicy",
    "logs:PutMetricFilter",
    "logs:PutRetentionPolicy",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "sns:DeleteTopic",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
)

# Changes to the baseline KMS keys (matched by tag: key ids are random).
KEY_CHANGES = (
    "kms:CancelKeyDeletion",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
)

# Changes to a production-data store's configuration: its lifecycle, replication, ACLs and
# ownership, encryption, versioning, policy, or the bucket itself (#21, finding 4).
DATA_STORE_CHANGES = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
)

# Pointing a platform key alias elsewhere (or away).
KEY_ALIAS_CHANGES = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")

# Services whose resources resource control policies can protect (Nov 2024 launch set).
RCP_SERVICES = ("s3", "sts", "kms", "sqs", "secretsmanager")

# Global services, exempt from the region restriction (they live in us-east-1).
GLOBAL_SERVICE_ACTIONS = (
    "a4b:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
)
