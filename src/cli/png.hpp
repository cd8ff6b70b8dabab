// PNG output for the command-line tool: 8-bit greyscale, written atomically (temporary file, then rename).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vae/status.hpp"

namespace cli {

vae::Status png_write_gray(const std::string& path, int width, int height, const std::vector<uint8_t>& pixels);

// A canvas of rows x cols tiles of tile_h x tile_w pixels with a gap between tiles; values in [0, 1].
struct TileSheet {
  int rows, cols, tile_h, tile_w, gap;
  std::vector<uint8_t> pixels;
  TileSheet(int rows, int cols, int tile_h, int tile_w, int gap);
  int width() const { return cols * tile_w + (cols + 1) * gap; }
  int height() const { return rows * tile_h + (rows + 1) * gap; }
  void put(int row, int col, const float* image);  // image: tile_h x tile_w, row-major
};

}  // namespace cli
