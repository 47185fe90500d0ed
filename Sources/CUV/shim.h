#ifndef PLEXUS_CUV_SHIM_H
#define PLEXUS_CUV_SHIM_H
#include <uv.h>
#endif
