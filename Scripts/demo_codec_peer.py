"""The Python side of the codec demo: decodes the request Swift wrote and answers it.

Uses Google's protobuf runtime with _pb2 modules generated from the same proto/ files.
"""
import os
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
gen = tempfile.mkdtemp(prefix="plexus-demo-pb2-")
subprocess.run(["protoc", f"-I{root}/proto", "-I/usr/include", f"--python_out={gen}",
                "plexus/control/v1/control.proto", "plexus/rpc/v1/status.proto",
                "plexus/settings/v1/value.proto", "plexus/profiling/v1/profiling.proto"], check=True, cwd=root)
sys.path.insert(0, gen)

from google.protobuf import wrappers_pb2  # noqa: E402
from plexus.control.v1 import control_pb2  # noqa: E402
from plexus.rpc.v1 import status_pb2  # noqa: E402

directory = sys.argv[1]
with open(os.path.join(directory, "request.bin"), "rb") as f:
    request = control_pb2.ProcessControlRequest.FromString(f.read())
value = request.update_setting_field.value
print(f"python ← decoded ProcessControlRequest: request_id={request.request_id} unit={request.unit} "
      f"timeout={request.timeout.seconds}s {request.WhichOneof('operation')} "
      f"{request.update_setting_field.field_path} = {value.double_value}")

response = control_pb2.ProcessControlResponse(request_id=request.request_id, unit=request.unit,
                                              error_code=status_pb2.ROUTING_CODE_UNSPECIFIED)
# The owner answers with its whole settings message; here a DoubleValue stands in for it.
response.update_setting_field.settings = wrappers_pb2.DoubleValue(value=value.double_value).SerializeToString()
data = response.SerializeToString()
with open(os.path.join(directory, "response.bin"), "wb") as f:
    f.write(data)
print(f"python → wrote ProcessControlResponse ({len(data)} bytes)")
