#ifndef PLEXUS_CPROTOBUFC_SHIM_H
#define PLEXUS_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
