// The studio's computations on a model, without a window: what the model makes of the drawing (its input,
// code, reconstruction, ELBO and log p(x) placed among the test set's), the latent grid, prior samples and the
// morph between two codes. Pure data in, data out; the panels (ui.cpp) only show these.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vae/infer.hpp"
#include "vae/latent.hpp"
#include "vae/latent_map.hpp"
#include "vae/model.hpp"
#include "vae/model_io.hpp"

namespace app {

constexpr int kRasterSide = 280;      // the drawing is rasterised at 10x MNIST's resolution, then preprocessed
constexpr int kPosteriorSamples = 6;  // decoded samples z ~ q(z|x) shown beside the reconstruction
constexpr int kIwSamples = 500;       // importance samples for the drawing's log p(x)
constexpr uint64_t kAnalysisSeed = 20131220;  // fixed: the same drawing always gives the same figures

// What the model makes of one input image (28x28 for MNIST models).
struct Analysis {
  bool empty = true;            // nothing drawn: no code, no figures
  std::vector<float> input;     // (D) what the model sees, [0, 1]
  std::vector<float> mu, sigma; // (Z) posterior q(z|x) = N(mu, diag sigma^2)
  std::vector<float> recon;     // (D) decoder mean at z = mu
  std::vector<float> samples;   // (kPosteriorSamples, D) decoder means at z ~ q(z|x)
  double rec = 0;               // E_q[-log p(x|z)], nats, averaged over the posterior samples (grey targets)
  double kl = 0;                // KL(q(z|x) || p(z)), closed form
  double elbo() const { return -(rec + kl); }
  double log_px = 0;            // importance-weighted log p(x) of the stochastically binarised input, K = kIwSamples
  double percentile = -1;       // share (0..100) of test images whose log p(x) is lower; -1: no test figures
  // A label-conditioned model's reading (analyze_input_conditional); empty for a plain model.
  std::vector<float> probs;     // (C) the classifier's q(y|x)
  int predicted = -1;           // argmax q(y|x)
  int label = -1;               // the label the style code mu was read with (and recon drawn with)
};

// Analyses a model input (D values). Without with_iw, log_px and percentile are left unset (the importance
// sampling is the expensive part: kIwSamples decoder passes).
void analyze_input(const vae::VaeInfer& m, const std::vector<float>& input, const std::vector<double>& nll_percentiles,
                   Analysis& out, bool with_iw = true);

// The same for a label-conditioned model: q(y|x), then the style code q(z|x, y) read with `label` (the
// classifier's when label is out of 0..C-1), its KL and the reconstruction drawn with that label. No posterior
// samples, reconstruction term or log p(x).
void analyze_input_conditional(const vae::CvaeInfer& m, const std::vector<float>& input, int label, Analysis& out);

// The test set's -log p(x) at percentiles 0, 1, ..., 100 from the model's metadata ("test.nll_percentiles",
// parsed by vae::meta_nll_percentiles); empty when the model file has none.
std::vector<double> nll_percentiles_from_meta(const vae::Metadata& meta);
// Share (0..100) of the test set whose -log p(x) is above nll (so whose log p(x) is below the drawing's).
double percentile_of_nll(const std::vector<double>& nll_percentiles, double nll);

// ---- the latent plane: the map's 2-D coordinates (a, b) and the latent codes they stand for ----

// The latent code for map coordinates (a, b): Z == 2 maps directly; otherwise the plane of the model's
// latent map (top two principal axes) through `through`; without a map, dimensions 0 and 1 around `through`.
std::vector<float> plane_to_latent(const vae::LatentMap& map, int Z, const std::vector<float>& through, float a,
                                   float b);
void latent_to_plane(const vae::LatentMap& map, const std::vector<float>& z, float out[2]);

// The grid view: n x n cells over a square of the plane centred at (center_a, center_b).
struct GridView {
  int n = 20;                                  // 5..30
  vae::GridSpacing spacing = vae::GridSpacing::InverseCdf;
  float range = 3.f;                           // linear spacing: the half-width of the square
  float center_a = 0.f, center_b = 0.f;        // panning moves this
  float zoom = 1.f;                            // > 1 zooms in
  bool operator==(const GridView& o) const {
    return n == o.n && spacing == o.spacing && range == o.range && center_a == o.center_a &&
           center_b == o.center_b && zoom == o.zoom;
  }
  bool operator!=(const GridView& o) const { return !(*this == o); }
};
// Plane coordinates of cell (row, col); row 0 is the top, so b decreases down the rows as on a plot.
void grid_cell_plane(const GridView& g, int row, int col, float& a, float& b);
// The latent code of every cell: codes (n*n, Z), row-major by cell.
void grid_codes(const vae::LatentMap& map, int Z, const std::vector<float>& through, const GridView& g,
                std::vector<float>& codes);

// Decoder means for codes (count, Z) row-major -> images (count, D).
void decode_codes(const vae::VaeInfer& m, const std::vector<float>& codes, int count, std::vector<float>& images);

// count codes from the prior N(0, t^2 I): (count, Z) row-major; vae::prior_codes, the same codes as `vae sample`.
std::vector<float> prior_codes(int Z, int count, float temperature, uint64_t seed);

// The morph: `steps` codes from a to b (inclusive), linear or spherical.
std::vector<float> morph_codes(const std::vector<float>& a, const std::vector<float>& b, int steps, bool spherical);

// A grey image with its size.
struct Sheet {
  std::vector<float> pixels;  // (height, width) row-major, [0, 1]
  int width = 0, height = 0;
};
// count images (side x side each) in rows of cols with a 1-pixel gap, for display and export.
Sheet tile_images(const std::vector<float>& images, int count, int side, int cols);

// The square around all of the map's points with a 5 % margin: centre a, centre b, side (1e-3 at least).
void map_home(const vae::LatentMap& map, float view[3]);

// The latent map's points as an RGBA8 image of side x side pixels (row-major, top row first, b upwards)
// showing the square of the plane centred at (view[0], view[1]) with edge view[2]: each point a dot of
// dot x dot pixels in palette[label % 10] (0xAABBGGRR, as ImGui's IM_COL32) blended over the opaque
// background, in the map's order. The panel shows it as one image, made once per model, view and size,
// instead of drawing every point every frame.
std::vector<uint8_t> map_raster(const vae::LatentMap& map, const float view[3], int side, float dot,
                                const uint32_t palette[10], uint32_t background);

}  // namespace app
