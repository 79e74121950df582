"""Run inside the Ray image: one GCS call to ADDRESS in plain text, in TLS with the
CA only, or in mutual TLS with the node's certificate; prints OK or REFUSED."""

import sys
import time

import grpc
from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

TLS_DIR = "/etc/seedcore/tls/"


def read(name: str) -> bytes:
    with open(TLS_DIR + name, "rb") as handle:
        return handle.read()


def channel(target: str, mode: str):
    if mode == "plain":
        return grpc.insecure_channel(target)
    if mode == "ca-only":
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=read("ca.crt")))
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(read("ca.crt"), read("node.key"),
                                                                    read("node.crt")))


target, mode = sys.argv[1], sys.argv[2]
started = time.monotonic()
try:
    stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel(target, mode))
    reply = stub.GetAllNodeInfo(gcs_service_pb2.GetAllNodeInfoRequest(), timeout=10)
    print("OK", len(reply.node_info_list), "nodes", round(time.monotonic() - started, 3))
except grpc.RpcError as error:
    print("REFUSED", error.code().name, (error.details() or "")[:120], round(time.monotonic() - started, 3))
