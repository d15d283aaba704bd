#!/usr/bin/env python3
"""Prepares a fresh moto server for tests/unit/test_objstore.c.

usage: moto_setup.py ENDPOINT BUCKET

Uses moto's first unauthenticated requests (INITIAL_NO_AUTH_ACTION_COUNT=4
in the server's environment): an IAM user with an inline policy allowing
s3:*, an access key for it, and the bucket.  Every later request must be
signed with that key.  Prints "KEY_ID SECRET" on one line.
"""
import json
import sys

import boto3


def main():
    endpoint, bucket = sys.argv[1], sys.argv[2]
    common = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="setup", aws_secret_access_key="setup")
    iam = boto3.client("iam", **common)
    iam.create_user(UserName="lookout-test")
    iam.put_user_policy(
        UserName="lookout-test",
        PolicyName="s3-all",
        PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }),
    )
    key = iam.create_access_key(UserName="lookout-test")["AccessKey"]
    boto3.client("s3", **common).create_bucket(Bucket=bucket)
    print(key["AccessKeyId"], key["SecretAccessKey"])


if __name__ == "__main__":
    main()
