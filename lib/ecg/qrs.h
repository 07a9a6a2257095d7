/*
 * qrs.h: QRS detection in the style of Pan and Tompkins (1985).
 *
 * Each lead is band-passed (5-15 Hz, second-order Butterworth sections run
 * forward and backward, so without delay), differentiated and squared;
 * the leads' energies are summed and integrated over a 150 ms window.
 * Peaks of the integrated signal are classified against adaptive signal
 * and noise levels, with a 200 ms refractory period, T-wave discrimination
 * by slope within 360 ms, and search-back at half the threshold when no
 * beat came for 1.66 mean RR intervals.  A beat is placed at the largest
 * absolute band-passed value near its peak.
 */
#ifndef MRT_QRS_H
#define MRT_QRS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/*
 * Detect beats in x [leads][n] sampled at fs Hz.  Writes at most cap
 * sample indices (increasing) to beats and their count to *nbeats.
 * NaN samples count as 0.  Returns 0, MRT_EINVAL (fs < 50, n < 1, leads < 1),
 * MRT_ENOMEM, or MRT_ERANGE when more than cap beats were found (the first
 * cap are written).
 */
int mrt_qrs_detect(const float *x, int leads, int64_t n, double fs,
    int64_t *beats, int cap, int *nbeats);

#endif
