#!/usr/bin/env python3
"""Measures an SQS or DynamoDB emulator already listening on 127.0.0.1, the way
docs/emulators.md reports them: SQS send/drain rates and the server's CPU per cycle as
the queue grows; DynamoDB put, batch-write and GSI query rates as the table grows.

  measure-emulators.py sqs URL PID
  measure-emulators.py dynamodb URL PID

PID is the emulator's process, whose CPU time is read from /proc. Needs botocore
(the ministack venv in .tools/ has it).
"""
import json
import os
import sys
import time
import uuid

import botocore.session
from botocore.config import Config

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def client(service, url):
    session = botocore.session.get_session()
    return session.create_client(
        service, region_name="us-east-1", endpoint_url=url,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


def sqs(url, pid):
    c = client("sqs", url)
    q = c.create_queue(QueueName=f"m{uuid.uuid4().hex[:8]}")["QueueUrl"]
    body = "x" * 1024
    n = 2000
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    for i in range(0, n, 10):
        c.send_message_batch(QueueUrl=q, Entries=[{"Id": str(j), "MessageBody": body} for j in range(10)])
    send_s, send_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    got, t0 = 0, time.perf_counter()
    while got < n:
        r = c.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        msgs = r.get("Messages", [])
        if not msgs:
            break
        c.delete_message_batch(QueueUrl=q, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
        got += len(msgs)
    drain_s = time.perf_counter() - t0
    # Cost of one send+receive+delete cycle with an empty queue, then with 20,000 queued.
    def cycle_ms(queue):
        cpu = cpu_seconds(pid)
        for _ in range(50):
            c.send_message(QueueUrl=queue, MessageBody=body)
            r = c.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)
            for m in r.get("Messages", []):
                c.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return (cpu_seconds(pid) - cpu) * 1000 / 50
    empty = cycle_ms(q)
    big = c.create_queue(QueueName=f"m{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for i in range(0, 20000, 10):
        c.send_message_batch(QueueUrl=big, Entries=[{"Id": str(j), "MessageBody": body} for j in range(10)])
    full = cycle_ms(big)
    print(json.dumps({
        "send_msg_per_s": round(n / send_s), "drain_msg_per_s": round(got / drain_s),
        "server_cpu_ms_per_send": round(send_cpu * 1000 / n, 3),
        "cycle_cpu_ms_empty": round(empty, 2), "cycle_cpu_ms_20k_queued": round(full, 2),
    }))


def dynamodb(url, pid):
    c = client("dynamodb", url)
    table = f"m{uuid.uuid4().hex[:8]}"
    c.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "g")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}],
    )
    payload = "x" * 512

    def put(i):
        c.put_item(TableName=table, Item={"pk": {"S": f"p{i % 50}"}, "sk": {"S": f"{i:08}"}, "g": {"S": f"g{i % 20}"}, "v": {"S": payload}})

    def query_ms(k, index):
        t0 = time.perf_counter()
        for i in range(k):
            if index:
                c.query(TableName=table, IndexName="gsi", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": f"g{i % 20}"}}, Limit=10)
            else:
                c.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": f"p{i % 50}"}}, Limit=10, ScanIndexForward=False)
        return (time.perf_counter() - t0) * 1000 / k

    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    for i in range(1000):
        put(i)
    put_s, put_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    t0 = time.perf_counter()
    for b in range(100):
        c.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": f"b{b}"}, "sk": {"S": f"{j}"}, "g": {"S": "gb"}, "v": {"S": payload}}}} for j in range(25)]})
    batch_s = time.perf_counter() - t0
    q_small, g_small = query_ms(200, False), query_ms(200, True)
    for i in range(1000, 10000):
        put(i)
    q_big, g_big = query_ms(200, False), query_ms(200, True)
    print(json.dumps({
        "put_per_s": round(1000 / put_s), "server_cpu_ms_per_put": round(put_cpu, 3),
        "batch_items_per_s": round(2500 / batch_s),
        "query_per_s_3k_items": round(1000 / q_small), "query_per_s_12k_items": round(1000 / q_big),
        "gsi_query_per_s_3k_items": round(1000 / g_small), "gsi_query_per_s_12k_items": round(1000 / g_big),
    }))


if __name__ == "__main__":
    kind, url, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"sqs": sqs, "dynamodb": dynamodb}[kind](url, pid)
