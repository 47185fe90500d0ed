/* Descriptor accessors the code generator needs (hand-written: the generator cannot depend on
 * its own output). Swift cannot take the address of a C `const` global reliably, so each
 * descriptor is handed out by a static inline function. */
#ifndef PLEXUS_CODEGEN_SUPPORT_H
#define PLEXUS_CODEGEN_SUPPORT_H

#include "google/protobuf/compiler/plugin.pb-c.h"
#include "plexus/settings/v1/options.pb-c.h"

static inline const ProtobufCMessageDescriptor *plexus_codegen_request_descriptor(void) {
    return &google__protobuf__compiler__code_generator_request__descriptor;
}

static inline const ProtobufCMessageDescriptor *plexus_codegen_response_descriptor(void) {
    return &google__protobuf__compiler__code_generator_response__descriptor;
}

static inline const ProtobufCMessageDescriptor *plexus_codegen_response_file_descriptor(void) {
    return &google__protobuf__compiler__code_generator_response__file__descriptor;
}

static inline const ProtobufCMessageDescriptor *plexus_codegen_field_settings_descriptor(void) {
    return &plexus__settings__v1__field_settings__descriptor;
}

#endif
