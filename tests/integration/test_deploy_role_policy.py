"""deploy/deploy-role-policy.json lets a deploy role do everything `sam deploy` of this stack needs:
every resource type in the SAM-translated template (both database modes, the optional revalidation
resources too) with the actions CloudFormation calls to create, update and delete it, plus what
SAM and CloudFormation do around them (change sets, the artifacts bucket, Fn::GetAZs, dynamic
references, invoking the custom resource's function).

The table below is the resource types' handler permissions as the CloudFormation registry lists
them (`aws cloudformation describe-type --type RESOURCE --type-name <type>`, `handlers.*.permissions`),
trimmed to the operations this template uses. A type the table lacks fails the test: add its row."""

from __future__ import annotations

import copy
import fnmatch
import json
from typing import Any

import pytest

from jobprep_local.template import PROJECT_ROOT
from tests.integration.test_sam import transformed

POLICY_FILE = PROJECT_ROOT / "deploy" / "deploy-role-policy.json"

ACTIONS: dict[str, set[str]] = {
    "AWS::ApiGatewayV2::Api": {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PUT",
        "apigateway:PATCH",
        "apigateway:DELETE",
    },
    "AWS::ApiGatewayV2::Stage": {
        "apigateway:POST",
        "apigateway:GET",
        "apigateway:PATCH",
        "apigateway:DELETE",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    },
    "AWS::CloudWatch::Alarm": {"cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"},
    "AWS::CloudWatch::Dashboard": {"cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"},
    "AWS::CodeDeploy::Application": {
        "codedeploy:CreateApplication",
        "codedeploy:GetApplication",
        "codedeploy:DeleteApplication",
    },
    "AWS::CodeDeploy::DeploymentGroup": {
        "codedeploy:CreateDeploymentGroup",
        "codedeploy:GetDeploymentGroup",
        "codedeploy:UpdateDeploymentGroup",
        "codedeploy:DeleteDeploymentGroup",
        "iam:PassRole",
    },
    "AWS::EC2::RouteTable": {
        "ec2:CreateRouteTable",
        "ec2:DescribeRouteTables",
        "ec2:DeleteRouteTable",
        "ec2:CreateTags",
    },
    "AWS::EC2::SecurityGroup": {
        "ec2:CreateSecurityGroup",
        "ec2:DescribeSecurityGroups",
        "ec2:DeleteSecurityGroup",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:CreateTags",
    },
    "AWS::EC2::SecurityGroupEgress": {
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:DescribeSecurityGroupRules",
    },
    "AWS::EC2::SecurityGroupIngress": {
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:DescribeSecurityGroupRules",
    },
    "AWS::EC2::Subnet": {
        "ec2:CreateSubnet",
        "ec2:DescribeSubnets",
        "ec2:DeleteSubnet",
        "ec2:ModifySubnetAttribute",
        "ec2:CreateTags",
    },
    "AWS::EC2::SubnetRouteTableAssociation": {
        "ec2:AssociateRouteTable",
        "ec2:DisassociateRouteTable",
        "ec2:DescribeRouteTables",
    },
    "AWS::EC2::VPC": {
        "ec2:CreateVpc",
        "ec2:DescribeVpcs",
        "ec2:DeleteVpc",
        "ec2:ModifyVpcAttribute",
        "ec2:DescribeVpcAttribute",
        "ec2:CreateTags",
    },
    "AWS::EC2::VPCEndpoint": {
        "ec2:CreateVpcEndpoint",
        "ec2:DescribeVpcEndpoints",
        "ec2:ModifyVpcEndpoint",
        "ec2:DeleteVpcEndpoints",
    },
    "AWS::Events::ApiDestination": {
        "events:CreateApiDestination",
        "events:DescribeApiDestination",
        "events:UpdateApiDestination",
        "events:DeleteApiDestination",
    },
    "AWS::Events::Archive": {
        "events:CreateArchive",
        "events:DescribeArchive",
        "events:UpdateArchive",
        "events:DeleteArchive",
    },
    "AWS::Events::Connection": {
        "events:CreateConnection",
        "events:DescribeConnection",
        "events:UpdateConnection",
        "events:DeleteConnection",
        "secretsmanager:CreateSecret",
        "secretsmanager:UpdateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:PutSecretValue",
    },
    "AWS::Events::EventBus": {"events:CreateEventBus", "events:DescribeEventBus", "events:DeleteEventBus"},
    "AWS::Events::Rule": {
        "events:PutRule",
        "events:DescribeRule",
        "events:DeleteRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "events:ListTargetsByRule",
        "iam:PassRole",
    },
    "AWS::IAM::ManagedPolicy": {
        "iam:CreatePolicy",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:ListPolicyVersions",
        "iam:DeletePolicy",
        "iam:ListEntitiesForPolicy",
    },
    "AWS::IAM::Role": {
        "iam:CreateRole",
        "iam:GetRole",
        "iam:DeleteRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListRolePolicies",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:TagRole",
    },
    "AWS::Lambda::Alias": {"lambda:CreateAlias", "lambda:GetAlias", "lambda:UpdateAlias", "lambda:DeleteAlias"},
    "AWS::Lambda::EventInvokeConfig": {
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:UpdateFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig",
    },
    "AWS::Lambda::EventSourceMapping": {
        "lambda:CreateEventSourceMapping",
        "lambda:GetEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
    },
    "AWS::Lambda::Function": {
        "lambda:CreateFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:DeleteFunction",
        "lambda:TagResource",
        "lambda:ListTags",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:GetLayerVersion",
        "lambda:GetRuntimeManagementConfig",
        "iam:PassRole",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    },
    "AWS::Lambda::LayerVersion": {
        "lambda:PublishLayerVersion",
        "lambda:GetLayerVersion",
        "lambda:DeleteLayerVersion",
        "s3:GetObject",
    },
    "AWS::Lambda::Permission": {"lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"},
    "AWS::Lambda::Version": {
        "lambda:PublishVersion",
        "lambda:GetFunctionConfiguration",
        "lambda:ListVersionsByFunction",
    },
    "AWS::Logs::LogGroup": {
        "logs:CreateLogGroup",
        "logs:DescribeLogGroups",
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:TagResource",
        "logs:ListTagsForResource",
    },
    "AWS::RDS::DBCluster": {
        "rds:CreateDBCluster",
        "rds:DescribeDBClusters",
        "rds:ModifyDBCluster",
        "rds:DeleteDBCluster",
        "rds:CreateDBClusterSnapshot",
        "rds:AddTagsToResource",
        "rds:RemoveTagsFromResource",
        "rds:ListTagsForResource",
        "secretsmanager:CreateSecret",
        "secretsmanager:TagResource",
        "kms:DescribeKey",
        "kms:CreateGrant",
        "iam:CreateServiceLinkedRole",
        "ec2:DescribeSecurityGroups",
    },
    "AWS::RDS::DBInstance": {
        "rds:CreateDBInstance",
        "rds:DescribeDBInstances",
        "rds:ModifyDBInstance",
        "rds:DeleteDBInstance",
        "rds:AddTagsToResource",
    },
    "AWS::RDS::DBProxy": {
        "rds:CreateDBProxy",
        "rds:DescribeDBProxies",
        "rds:ModifyDBProxy",
        "rds:DeleteDBProxy",
        "rds:AddTagsToResource",
        "iam:PassRole",
    },
    "AWS::RDS::DBProxyTargetGroup": {
        "rds:RegisterDBProxyTargets",
        "rds:DeregisterDBProxyTargets",
        "rds:DescribeDBProxyTargetGroups",
        "rds:DescribeDBProxyTargets",
        "rds:ModifyDBProxyTargetGroup",
    },
    "AWS::RDS::DBSubnetGroup": {
        "rds:CreateDBSubnetGroup",
        "rds:DescribeDBSubnetGroups",
        "rds:ModifyDBSubnetGroup",
        "rds:DeleteDBSubnetGroup",
    },
    "AWS::SNS::Subscription": {
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
    },
    "AWS::SNS::Topic": {
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:TagResource",
    },
    "AWS::SQS::Queue": {
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:TagQueue",
    },
    "AWS::SQS::QueuePolicy": {"sqs:SetQueueAttributes", "sqs:GetQueueAttributes"},
    "AWS::SecretsManager::Secret": {
        "secretsmanager:CreateSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:UpdateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:GetRandomPassword",
        "secretsmanager:PutSecretValue",
    },
    # CloudFormation invokes the function behind a custom resource's ServiceToken with the deployer's rights
    "Custom::*": {"lambda:InvokeFunction"},
}

# Around the resources: `sam deploy` (change sets on the stack, the SAM transform, the managed
# artifacts stack and bucket), Fn::GetAZs, and {{resolve:secretsmanager:...}} references.
AROUND = {
    "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
    "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:GetTemplateSummary",
    "cloudformation:CreateStack",
    "s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock", "s3:PutObject", "s3:GetObject", "s3:ListBucket",
    "ec2:DescribeAvailabilityZones",
}  # fmt: skip


def allowed_actions(policy: dict[str, Any]) -> list[str]:
    patterns: list[str] = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        actions = statement["Action"]
        patterns += [actions] if isinstance(actions, str) else actions
    return patterns


def allows(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def needed(template: dict[str, Any]) -> dict[str, set[str]]:
    """Action -> the resource types (or 'deploy') that need it."""
    need: dict[str, set[str]] = {action: {"deploy"} for action in AROUND}
    types = {r["Type"] for r in template["Resources"].values()}
    unknown = sorted(t for t in types if t not in ACTIONS and not t.startswith("Custom::"))
    assert not unknown, f"add the CloudFormation handler permissions of {unknown} to ACTIONS"
    for kind in types:
        for action in ACTIONS["Custom::*" if kind.startswith("Custom::") else kind]:
            need.setdefault(action, set()).add(kind)
    if "{{resolve:secretsmanager:" in json.dumps(template):
        need.setdefault("secretsmanager:GetSecretValue", set()).add("dynamic reference")
    return need


def missing(policy: dict[str, Any], template: dict[str, Any]) -> dict[str, set[str]]:
    patterns = allowed_actions(policy)
    return {action: kinds for action, kinds in needed(template).items() if not allows(patterns, action)}


def policy() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(POLICY_FILE.read_text())
    return loaded


def test_the_deploy_role_policy_covers_every_resource_the_stack_creates() -> None:
    template = transformed()  # all resources, whatever their conditions: both modes, revalidation too
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::RDS::DBProxy", "AWS::CodeDeploy::DeploymentGroup", "Custom::SchemaMigration"} <= kinds
    assert missing(policy(), template) == {}


@pytest.mark.parametrize(
    "planted",
    [
        "lambda:InvokeFunction",
        "iam:PassRole",
        "codedeploy:CreateDeploymentGroup",
        "cloudwatch:PutMetricAlarm",
        "sns:CreateTopic",
    ],
)
def test_a_missing_action_is_caught(planted: str) -> None:
    """What the old docs/deploy.md list lacked (issue 17), removed from the file one at a time."""
    cut = copy.deepcopy(policy())
    for statement in cut["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != planted]
    assert planted in missing(cut, transformed())


def test_the_policy_fits_an_inline_role_policy_and_passes_roles_to_services_only() -> None:
    text = POLICY_FILE.read_text()
    assert len("".join(text.split())) <= 10_240  # IAM's inline-policy limit, whitespace not counted
    for statement in policy()["Statement"]:
        if "iam:PassRole" in statement["Action"]:
            assert statement["Action"] == ["iam:PassRole"]
            assert statement["Condition"]["StringEquals"]["iam:PassedToService"]
        assert "*" not in statement["Action"], "no blanket grants"


def test_the_docs_and_ci_use_the_policy_file() -> None:
    assert "deploy/deploy-role-policy.json" in (PROJECT_ROOT / "docs" / "deploy.md").read_text()
    assert "deploy/deploy-role-policy.json" in (PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text()
