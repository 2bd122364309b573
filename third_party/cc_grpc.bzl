"""C++ code generation for protos with the system protoc and grpc_cpp_plugin.

Bazel 4.2.3's native cc_proto_library wants protobuf's sources as a
repository; Debian ships only the compiler and the library, so a genrule
runs them directly.
"""

def cc_grpc_library(name, src, deps = [], visibility = None):
    """A cc_library with the message and gRPC service code of one .proto.

    Args:
      name: the cc_library's name.
      src: a .proto file in this package; imports resolve from the repo root.
      deps: further cc_library dependencies.
      visibility: the cc_library's visibility (default: the package's).
    """
    if not src.endswith(".proto"):
        fail("src must be a .proto file")
    stem = src[:-len(".proto")]
    headers = [stem + ".pb.h", stem + ".grpc.pb.h"]
    sources = [stem + ".pb.cc", stem + ".grpc.pb.cc"]
    native.genrule(
        name = name + "_codegen",
        srcs = [src],
        outs = headers + sources,
        cmd = " ".join([
            "protoc",
            "--proto_path=.",
            "--cpp_out=$(GENDIR)",
            "--grpc_out=$(GENDIR)",
            "--plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)",
            "$(location %s)" % src,
        ]),
    )
    native.cc_library(
        name = name,
        srcs = sources,
        hdrs = headers,
        deps = deps + ["//third_party:grpc", "//third_party:protobuf"],
        visibility = visibility,
    )
