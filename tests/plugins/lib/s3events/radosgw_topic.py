"""Bucket notifications on the test radosgw (tools/s3-server): an
SNS-compatible persistent topic pushing to an HTTP endpoint, and the bucket's
notification configuration sending it object creations and removals.  Used
by the listener's tests and the notification-mode pipelines."""
import urllib.request
import uuid

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREATED_AND_REMOVED = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]


def sns(env):
    return boto3.client("sns", endpoint_url=env["AWS_ENDPOINT_URL"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        region_name=env["AWS_REGION"])


def create_topic(env, endpoint):
    """A persistent topic (radosgw queues each event in rados and delivers it
    until the endpoint answers 2xx: at least once) pushing to endpoint.  Its
    ARN."""
    name = f"flowrun-{uuid.uuid4().hex[:10]}"
    reply = sns(env).create_topic(Name=name, Attributes={
        "push-endpoint": endpoint, "persistent": "true"})
    return reply["TopicArn"]


def notify(s3, bucket, topic_arns, events=CREATED_AND_REMOVED):
    """Sends the bucket's events to every topic of topic_arns."""
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [
            {"Id": f"n{i}", "TopicArn": arn, "Events": events}
            for i, arn in enumerate(topic_arns)]})


def remove(env, bucket, topic_arns):
    """Undoes notify and create_topic: the shared server keeps no queue
    pushing to an endpoint that is gone."""
    # radosgw refuses an empty configuration; DELETE ?notification is its way
    request = AWSRequest(method="DELETE",
                         url=f"{env['AWS_ENDPOINT_URL']}/{bucket}?notification")
    S3SigV4Auth(Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3",
                env["AWS_REGION"]).add_auth(request)
    urllib.request.urlopen(urllib.request.Request(
        request.url, method="DELETE", headers=dict(request.headers)), timeout=60).close()
    for arn in topic_arns:
        sns(env).delete_topic(TopicArn=arn)
