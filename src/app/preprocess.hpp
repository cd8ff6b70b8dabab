// Turning a canvas image into a 28x28 model input: MNIST's own size normalisation and centring by mass, and a
// plain downscale to compare against. Pure functions on grey images; no drawing and no model here.
#pragma once
#include <vector>

namespace app {

constexpr int kMnistSide = 28;  // output field, kMnistSide x kMnistSide
constexpr int kMnistBox = 20;   // the ink's bounding box is scaled so its longer side is this many pixels

struct PreprocessOptions {
  float ink_threshold = 0.05f;  // a source pixel counts as ink (for the bounding box and `empty`) above this
  // The bounding box's longer side is taken as at least this fraction of the source's longer side, which caps
  // the scale factor at kMnistBox / (fraction * max(w, h)): on a 280 px canvas the box is at least 84 px, so
  // a 22 px dot becomes a ~5 px dot instead of a 20 x 20 blob, and digits drawn larger than 84 px are
  // normalised exactly as MNIST's. 0 disables it.
  float min_box_fraction = 0.3f;
};

// Coordinates: the source bounding box is in pixel-edge units (pixel (i, j) spans [i, i+1) x [j, j+1), so
// x1 - x0 is the box width). center_of_mass is in pixel-index units (pixel (i, j) sits at (i, j)), the
// convention in which MNIST's digits have their mass centred at (14, 14): the mean over t10k is (14.01, 13.99).
struct PreprocessResult {
  bool empty = true;  // no source pixel above ink_threshold (or bad input): image is all zero
  std::vector<float> image = std::vector<float>(kMnistSide * kMnistSide, 0.0f);  // (28, 28) row-major, [0, 1]
  float bbox[4] = {0, 0, 0, 0};        // ink bounding box in the source: x0, y0, x1, y1 (pixel edges)
  float center_of_mass[2] = {0, 0};    // x, y in the 28x28 output: mnist = box-centred, before the shift
  float scale = 0;                     // output pixels per source pixel (x; mnist keeps the aspect ratio)
};

// MNIST's preprocessing (LeCun, Bottou, Bengio & Haffner 1998; the MNIST page: "size normalized to fit in a
// 20x20 pixel box while preserving their aspect ratio ... anti-aliasing ... centered in a 28x28 image by
// computing the center of mass of the pixels, and translating the image so as to position this point at the
// center"). src: w x h grey, row-major, ink = 1; values are clamped to [0, 1] (NaN reads as 0).
//   1. bounding box of the pixels above ink_threshold;
//   2. scale s = 20 / max(box width, box height, min_box_fraction max(w, h)), the same for x and y;
//   3. one area-average resample (each output pixel is the mean of the source over its exact footprint,
//      fractional source pixels weighted by overlap) of the affine map X = s (x - m) + 14, with m the source
//      centre of mass, so the mass lands on (14, 14) with a sub-pixel shift and no second interpolation
//      (MNIST itself shifted by whole pixels). Pixel-centred sampling moves the measured centre slightly, so
//      the offset is corrected by up to three more resamples until it is within 1e-3 px. Ink outside the
//      field after the shift (very lopsided shapes) is lost, as in MNIST.
// Total ink is s^2 times the source's (area averaging conserves mass) unless clipped.
PreprocessResult preprocess_mnist(const float* src, int w, int h, const PreprocessOptions& opt = {});

// The comparison toggle: the whole w x h source area-averaged onto 28x28 (s = 28 / w across, 28 / h down), no
// box and no centring. center_of_mass is that of the output.
PreprocessResult preprocess_plain(const float* src, int w, int h, const PreprocessOptions& opt = {});

}  // namespace app
