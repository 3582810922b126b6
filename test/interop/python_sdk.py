"""Drives tatd with the official Python SDK (tencentcloud-sdk-python-tat), unmodified.

Reads TATD_ENDPOINT (host:port), SECRET_ID, SECRET_KEY and SIGN_METHOD from the environment,
runs a few calls, and prints one JSON object with what it saw; test/interop/python-sdk.test.ts
checks it. Errors must reach the caller as TencentCloudSDKException (the SDK only reads
Response.Error when Content-Type is exactly application/json).
"""

import base64
import json
import os

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tat.v20201028 import models, tat_client


def make_client():
    http = HttpProfile(protocol="http", endpoint=os.environ["TATD_ENDPOINT"])
    profile = ClientProfile(signMethod=os.environ.get("SIGN_METHOD", "TC3-HMAC-SHA256"), httpProfile=http)
    cred = credential.Credential(os.environ["SECRET_ID"], os.environ["SECRET_KEY"])
    return tat_client.TatClient(cred, "ap-guangzhou", profile)


def call(client, action, params):
    req = getattr(models, action + "Request")()
    req.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(req).to_json_string())


def main():
    client = make_client()
    out = {}
    name = "py-" + os.environ.get("SIGN_METHOD", "tc3").lower().replace("-", "")
    created = call(client, "CreateCommand", {
        "CommandName": name,
        "Content": base64.b64encode(b"echo from python").decode(),
        "Tags": [{"Key": "lang", "Value": "python"}],
    })
    out["created"] = created["CommandId"]
    listed = call(client, "DescribeCommands", {
        "Filters": [{"Name": "tag:lang", "Values": ["python"]}, {"Name": "command-name", "Values": [name]}],
        "Limit": 10,
    })
    out["listed"] = [c["CommandId"] for c in listed["CommandSet"]]
    out["total"] = listed["TotalCount"]
    try:
        call(client, "DeleteCommand", {"CommandId": "cmd-zzzzzzzz"})
        out["error"] = None
    except TencentCloudSDKException as e:
        out["error"] = e.get_code()
        out["request_id"] = e.get_request_id()
    try:
        call(client, "CreateCommand", {"CommandName": name, "Content": "aGk="})
        out["duplicate"] = None
    except TencentCloudSDKException as e:
        out["duplicate"] = e.get_code()
    call(client, "DeleteCommand", {"CommandId": created["CommandId"]})
    out["regions"] = call(client, "DescribeRegions", {})["TotalCount"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
