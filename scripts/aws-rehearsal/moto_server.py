"""moto_server (moto 5.2.1) for `npm run test:aws`, with changes that make it judge as AWS does (each says why).

Usage: python3 scripts/aws-rehearsal/moto_server.py   (binds 127.0.0.1 on a free port; prints "port <n>" once ready)

1. ValidateTemplate: stock moto runs cfn-lint and fails on its first match of any level, so a warning (W8003:
   two conditions comparing values filled in at package time) stops `osls deploy`. AWS refuses only templates with
   errors, so here only cfn-lint errors (E...) fail it; test:aws runs cfn-lint itself and lists the warnings.

2. IAM resources: moto evaluates IAM policies (once auth is on: POST /moto-api/reset-auth with "0") but tells the
   policy evaluator the resource only for SQS, IAM and STS; every other call is checked against resource "*", which
   no least-privilege statement names, so every DynamoDB/SSM/Secrets Manager call of a handler would be denied.
   Here those calls are checked against the ARNs AWS uses for them: the table (and `/index/<name>` for a query on an
   index), each table of a batch, each item action of a transaction (AWS has no TransactWriteItems action: it checks
   PutItem/UpdateItem/DeleteItem/ConditionCheckItem per item), the parameter, the secret, the stack, the event bus.
   moto still evaluates no IAM conditions (a statement with a Condition never allows).

3. Inline role policies created by CloudFormation are kept as parsed documents, which moto's policy evaluator
   cannot read and GetRolePolicy returns as Python text: they are stored as JSON, as IAM does.

4. A table's TimeToLiveSpecification in a template is ignored by moto's CloudFormation (the table keeps TTL off);
   here it is applied as CloudFormation does, so test:aws can check the deployed TTL.

Every IAM decision made with auth on is printed as one JSON line ({"decision": ...}) so test:aws can report
the allowed and denied calls per role.
"""

import json
import os
import sys
import threading

from werkzeug.serving import make_server

from moto import settings
from moto.cloudformation import models as cfn_models
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.events.responses import EventsHandler
from moto.iam.access_control import IAMRequest
from moto.iam.models import Role
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.secretsmanager.models import secretsmanager_backends
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.ssm.responses import SimpleSystemManagerResponse

_lint = cfn_models.validate_template_cfn_lint


def _errors_only(template):
    # cfn-lint match rule ids start with E (error), W (warning) or I (informational)
    return [m for m in _lint(template) if m.rule.id.startswith("E")]


cfn_models.validate_template_cfn_lint = _errors_only


_create_table = Table.create_from_cloudformation_json.__func__


def _create_table_with_ttl(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    table = _create_table(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    ttl = cloudformation_json["Properties"].get("TimeToLiveSpecification")
    if ttl:
        dynamodb_backends[account_id][region_name].update_time_to_live(table.name, ttl)
    return table


Table.create_from_cloudformation_json = classmethod(_create_table_with_ttl)

_put_policy = Role.put_policy


def _put_policy_json(self, policy_name, policy_json):
    if not isinstance(policy_json, str):
        # a statement that was `Fn::If [cond, stmt, AWS::NoValue]` with cond false arrives as None: CloudFormation
        # leaves it out
        statements = policy_json.get("Statement")
        if isinstance(statements, list):
            policy_json = {**policy_json, "Statement": [st for st in statements if st is not None]}
        policy_json = json.dumps(policy_json)
    _put_policy(self, policy_name, policy_json)


Role.put_policy = _put_policy_json

_check = IAMRequest.check_action_permitted
_output = threading.Lock()


def _logged_check(self, resource):
    decision = {"principal": self._access_key.arn, "action": self._action, "resource": resource, "allowed": True}
    try:
        _check(self, resource)
    except Exception:
        decision["allowed"] = False
        raise
    finally:
        # one write per line under a lock: the server answers on many threads
        with _output:
            sys.stdout.write(json.dumps({"decision": decision}) + "\n")
            sys.stdout.flush()


IAMRequest.check_action_permitted = _logged_check


def _arn(self, service, resource):
    return f"arn:{self.partition}:{service}:{self.region}:{self.current_account}:{resource}"


def _authorize_each(self, checks):
    """One IAM check per (action, resource), as AWS does for batches and transactions."""
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    for action, resource in checks:

        class Request(IAMRequest):
            def __init__(self, **kwargs):
                kwargs["action"] = action
                super().__init__(**kwargs)

        self._authenticate_and_authorize_action(Request, resource)


def _dynamodb_checks(self):
    body = getattr(self, "params", None) or json.loads(self.body or "{}")
    action = self._get_action()
    table = lambda name: _arn(self, "dynamodb", f"table/{name}")  # noqa: E731
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [(action, table(name)) for name in body.get("RequestItems", {})]
    if action in ("TransactWriteItems", "TransactGetItems"):
        kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
        return [
            (kinds[kind], table(op["TableName"]))
            for item in body.get("TransactItems", [])
            for kind, op in item.items()
        ]
    if "TableName" in body:
        resource = table(body["TableName"])
        if body.get("IndexName"):
            resource += f"/index/{body['IndexName']}"
        return [(action, resource)]
    return [(action, "*")]


def _ssm_checks(self):
    action = self._get_action()
    names = [self._get_param("Name")] if self._get_param("Name") else (self._get_param("Names") or [])
    if not names and self._get_param("Path"):
        names = [self._get_param("Path")]
    if not names:
        return [(action, "*")]
    return [(action, n if n.startswith("arn:") else _arn(self, "ssm", "parameter/" + n.lstrip("/"))) for n in names]


def _secret_arn(self, secret_id):
    if secret_id.startswith("arn:"):
        return secret_id
    backend = secretsmanager_backends[self.current_account][self.region]
    if secret_id in backend.secrets:
        return backend.secrets[secret_id].arn
    # AWS appends 6 random characters to the name; policies match them with `name*` or `name-??????`
    return _arn(self, "secretsmanager", f"secret:{secret_id}-XXXXXX")


def _secrets_checks(self):
    action = self._get_action()
    secret_id = self._get_param("SecretId") or self._get_param("Name")
    return [(action, _secret_arn(self, secret_id) if secret_id else "*")]


def _stack_checks(self):
    action = self._get_action()
    name = self._get_param("StackName")
    if not name:
        return [(action, "*")]
    if name.startswith("arn:"):
        return [(action, name)]
    stack = next((s for s in self.cloudformation_backend.stacks.values() if s.name == name), None)
    return [(action, stack.stack_id if stack else _arn(self, "cloudformation", f"stack/{name}/*"))]


def _events_checks(self):
    action = self._get_action()
    if action != "PutEvents":
        return [(action, "*")]
    buses = {e.get("EventBusName") or "default" for e in self._get_param("Entries") or []}
    return [(action, b if b.startswith("arn:") else _arn(self, "events", f"event-bus/{b}")) for b in buses]


for cls, checks in (
    (DynamoHandler, _dynamodb_checks),
    (SimpleSystemManagerResponse, _ssm_checks),
    (SecretsManagerResponse, _secrets_checks),
    (CloudFormationResponse, _stack_checks),
    (EventsHandler, _events_checks),
):
    cls._authenticate_and_authorize_normal_action = (
        lambda self, resource="*", checks=checks: _authorize_each(self, checks(self))
    )


def main():
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # moto builds queue URLs and other addresses from MOTO_PORT
    os.environ["MOTO_PORT"] = str(server.port)
    print(f"port {server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
