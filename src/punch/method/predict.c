// SPDX-License-Identifier: MIT
/* The paper's method: connect-only peers on fresh ports; S predicts the
 * punch's port from the probes'. Every variation point at its default. */
#include "punch/method.h"
#include "punch/peer.h"

const struct punch_method_ops method_predict = {
    .name = "predict",
    .help = "fresh ports for the probes and the punch; S predicts the punch's (the paper's)",
    .citation = "Matsuda & Nakayama, connect-only peers with port prediction; the STUNT "
		"client's prediction (Guha & Francis, IMC 2005, 4)",
    .id = METHOD_PREDICT,
};
