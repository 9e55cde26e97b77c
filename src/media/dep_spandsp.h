// The one place that includes spandsp (DTMF detection and generation, G.711 reference functions).
//
// spandsp 0.0.6's headers are not self-contained (dtmf.h needs telephony.h, logging.h and
// super_tone_rx.h first; g711.h needs bit_operations.h) and use C casts that trip
// -Wold-style-cast, so they are included here, in order, with those warnings silenced. The rest
// of src/media includes this header, never <spandsp/...> directly.
//
// Thread rules: spandsp states (dtmf_rx_state_t, dtmf_tx_state_t) are owned by one thread each.
#pragma once

#include <cstddef>
#include <cstdint>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
// Each header uses types from the ones before it: keep this order.
// clang-format off
#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>
// clang-format on
#pragma GCC diagnostic pop
