"""Settings field values: Python values as plexus.settings.v1.FieldValue, and applying one to a
field of a settings message."""
from plexus.settings.v1 import value_pb2


def field_value(value):
    """A Python value as a plexus.settings.v1.FieldValue."""
    if isinstance(value, value_pb2.FieldValue):
        return value
    if isinstance(value, bool):
        return value_pb2.FieldValue(bool_value=value)
    if isinstance(value, int):
        return value_pb2.FieldValue(int_value=value) if value < 2 ** 63 else value_pb2.FieldValue(uint_value=value)
    if isinstance(value, float):
        return value_pb2.FieldValue(double_value=value)
    if isinstance(value, str):
        return value_pb2.FieldValue(string_value=value)
    if isinstance(value, (bytes, bytearray)):
        return value_pb2.FieldValue(bytes_value=bytes(value))
    if isinstance(value, (list, tuple)):
        return value_pb2.FieldValue(list=value_pb2.FieldValueList(values=[field_value(v) for v in value]))
    if hasattr(value, "SerializeToString"):
        return value_pb2.FieldValue(message_value=value.SerializeToString())
    raise TypeError(f"no FieldValue for {type(value).__name__}")


def apply_field(message, path, value):
    """Sets `path` (a top-level field name) of a protobuf message from a FieldValue."""
    field = message.DESCRIPTOR.fields_by_name.get(path)
    if field is None:
        raise ValueError(f"{message.DESCRIPTOR.full_name} has no field {path!r}")
    kind = value.WhichOneof("kind")
    raw = getattr(value, kind)
    if kind == "enum_name":
        raw = field.enum_type.values_by_name[raw].number
    elif kind == "message_value":
        sub = getattr(message, path)
        sub.Clear()
        sub.MergeFromString(raw)
        return
    elif kind == "list":
        del getattr(message, path)[:]
        getattr(message, path).extend(getattr(v, v.WhichOneof("kind")) for v in raw.values)
        return
    setattr(message, path, raw)
