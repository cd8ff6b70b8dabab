// PCA of a data set's images: the linear model the VAE is compared with (reconstruction, samples, filling in
// missing pixels), fitted to the same training images and shipped inside the model's own file as "pca.*"
// tensors, as the latent map rides along as "map.*". Not a general linear-algebra module.
//
// Size letters: N images, D pixels, K components. Every stored array is row-major, as in the file.
//
// In the file (all optional together; a model file without them has no PCA, and older files still load):
//   pca.mean        (D,)    the training images' mean image
//   pca.components  (K, D)  orthonormal principal axes as rows, largest variance first
//   pca.variances   (K,)    the training images' variance along each axis (the covariance's eigenvalues)
//   __metadata__ pca.source (what was fitted, e.g. "mnist-train, 60000 images"), pca.noise_variance (the mean
//   of the D - K discarded eigenvalues: probabilistic PCA's sigma^2, Tipping & Bishop 1999)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vae/idx.hpp"
#include "vae/safetensors.hpp"
#include "vae/status.hpp"

namespace vae {

constexpr const char* kPcaPrefix = "pca.";
bool is_pca_tensor(const std::string& name);

struct Pca {
  int D = 0, K = 0;                 // K == 0: no PCA
  std::vector<float> mean;          // (D)
  std::vector<float> components;    // (K, D) rows u_1..u_K
  std::vector<float> variances;     // (K) eigenvalues, descending
  double noise_variance = 0;        // sigma^2 of probabilistic PCA: the mean discarded eigenvalue
  std::string source;
  bool empty() const { return K == 0; }
};

// Fits K components to images (N, D) row-major: the D x D covariance accumulated in double, then Eigen's
// SelfAdjointEigenSolver. Each axis's sign is fixed so that its largest-magnitude entry (the first on ties) is
// positive. The covariance is (1/N) sum (x - mean)(x - mean)^T. Errors: K < 1, K > D, N < 2, a pixel not finite.
Status pca_fit(const float* images, int N, int D, int K, const std::string& source, Pca& out);
// The fraction of the training images' total variance the K axes keep: sum(variances) / (sum(variances) +
// (D - K) noise_variance), the denominator being the covariance's trace.
double pca_explained(const Pca& p);
// pca_fit on a data set's first max_images images (all if max_images >= ds.count); source
// "<ds.name>, <N> images".
Status pca_fit_dataset(const Dataset& ds, int K, int max_images, Pca& out);

// c = U (x - mean): K coefficients of one image (D values).
void pca_encode(const Pca& p, const float* x, float* c);
// x = mean + U^T c, clipped to [0, 1] (pixel values).
void pca_decode(const Pca& p, const float* c, float* x);
// pca_decode(pca_encode(x)).
void pca_reconstruct(const Pca& p, const float* x, float* out);
// The image from the observed pixels only (observed[d] != 0): the posterior mean of probabilistic PCA's
// coefficients given those pixels, c = (U_o U_o^T + sigma^2 diag(1 / variances))^-1 U_o (x_o - mean_o), solved
// in double, then pca_decode. Observed pixels keep their values in out; the rest are filled in. With every
// pixel observed and sigma^2 -> 0 this is pca_reconstruct.
void pca_fill_observed(const Pca& p, const float* x, const uint8_t* observed, float* out);
// count images (count, D) decoded from c ~ N(0, t^2 diag(variances)), from the project PRNG with `seed`.
std::vector<float> pca_sample(const Pca& p, int count, float temperature, uint64_t seed);

// Puts the PCA into a model's file: removes every "pca.*" tensor and metadata key, then (unless p is empty)
// appends its tensors and metadata.
void pca_to_st(const Pca& p, StFile& f);
// Reads the PCA from a model's file for images of D pixels. No "pca.*" tensor and no pca.* metadata: K = 0 and
// success. Otherwise checks shapes (D), (K, D), (K) with 1 <= K <= D, no other "pca.*" tensor, finite values,
// variances >= 0 and descending, rows of unit length and mutually orthogonal to within 1e-2, pca.noise_variance
// a number >= 0. One message per problem; out is replaced only on success.
Status pca_from_st(const StFile& f, int D, Pca& out);

}  // namespace vae
