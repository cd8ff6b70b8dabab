// The studio's latent map: the test set's posterior means as labelled 2-D points, shipped inside the model's own
// safetensors file as "map.*" tensors. For Z == 2 the points are the means themselves; for Z > 2 they are the
// means projected onto the plane of their top two principal axes. Not a plotting or colouring module.
//
// Size letters: N points, Z latent size. Every stored array is row-major, as in the file.
//
// In the file (all optional together; a model file without them has no map):
//   map.points  (N, 2)   2-D coordinates: mu itself (kind latent), or (mu - center) . basis_k (kind pca)
//   map.labels  (N,)     class labels as floats 0..255 (0..9 for MNIST and Fashion-MNIST)
//   map.center  (Z,)     pca only: the mean of the means
//   map.basis   (2, Z)   pca only: the two unit principal axes as rows, largest variance first
//   __metadata__ map.kind "latent" | "pca", map.source (what was encoded), map.explained "0.31,0.18" (pca only:
//   each axis's fraction of the means' total variance)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vae/cvae.hpp"
#include "vae/idx.hpp"
#include "vae/model.hpp"
#include "vae/safetensors.hpp"
#include "vae/status.hpp"

namespace vae {

struct LatentMap {
  std::string kind;              // "latent" (Z == 2) or "pca" (Z > 2); empty: the model file has no map
  std::vector<float> points;     // (N, 2)
  std::vector<uint8_t> labels;   // (N)
  std::vector<float> center;     // (Z) pca only
  std::vector<float> basis;      // (2, Z) pca only; rows u1, u2
  std::string source;            // e.g. "mnist-test, posterior means, 10000 images"
  double explained[2] = {0, 0};  // pca only: fraction of the total variance along u1 and u2
  int count() const { return int(labels.size()); }
};

// The map coordinates of a latent z (Z values; Z must be the map's latent size). latent: (z_0, z_1);
// pca: ((z - center) . u1, (z - center) . u2), summed in double.
void latent_map_project(const LatentMap& m, const float* z, int Z, float out[2]);
// The latent at map coordinates (a, b) on the plane through `through` (Z values, e.g. the drawing's code):
// z = through + c1 u1 + c2 u2 with G c = (a - a0, b - b0), (a0, b0) = project(through) and G the 2x2 Gram matrix
// of u1, u2 (the identity for an exact basis; solving with it keeps project(unproject(a, b)) == (a, b) when an
// F16 file has rounded the basis). So unproject(project(z), through = z) == z. latent: z = (a, b), through is
// ignored. z_out may be the same array as through.
void latent_map_unproject(const LatentMap& m, float a, float b, const float* through, int Z, float* z_out);

// The map of a set of means (count, Z) row-major with their labels: kind latent for Z == 2, else PCA of the
// Z x Z covariance in double (Eigen's SelfAdjointEigenSolver). Each axis's sign is fixed so that its
// largest-magnitude component (the first one on ties) is positive; the points are then latent_map_project of
// each mean with the stored (float) center and basis. Errors: Z < 2, count < 1 (or < 2 for pca).
Status latent_map_from_means(const float* means, const uint8_t* labels, int count, int Z, const std::string& source,
                             LatentMap& out);

// The map of the encoder means of a data set's first max_points images (all if max_points >= ds.count),
// encoded 1000 at a time on this thread. source becomes "<ds.name>, posterior means, <N> images".
// Errors: image size differs from the model's input, no images, or Z < 2.
Status latent_map_compute(const Vae& model, const Dataset& ds, int max_points, LatentMap& out);
// The same for a label-conditioned model (cvae.hpp): each image's style code, the mean of q(z|x, y) read with its
// own label, so that the map shows how style (not class) is laid out. Errors as above, and a label the model does
// not know.
Status latent_map_compute_conditional(const Cvae& model, const Dataset& ds, int max_points, LatentMap& out);

// Puts the map into a model's file: removes every "map.*" tensor and metadata key, then (if m.kind is not
// empty) appends the map's tensors, in the dtype the file already has (st_file_dtype), and its metadata.
void latent_map_to_st(const LatentMap& m, StFile& f);
// Reads the map from a model's file for a model of latent size Z. A file without "map.*" tensors or map.kind
// gives kind "" and success. Otherwise checks: kind latent with Z == 2 and no center/basis, or kind pca with
// Z > 2 and both; shapes (N, 2), (N), (Z), (2, Z) with N >= 1; no other "map.*" tensor; finite values; labels
// whole numbers in 0..255; basis rows unit length and orthogonal to within 1e-2; map.explained, if present, two
// fractions. One message per problem; out is replaced only on success.
Status latent_map_from_st(const StFile& f, int Z, LatentMap& out);

}  // namespace vae
