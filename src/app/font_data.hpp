// The studio's typeface as compiled-in bytes: Inter Regular and SemiBold (Debian's fonts-inter, SIL Open Font
// License 1.1), subset at build time to the characters src/app shows (tools/fonts/subset_fonts.py writes the
// definitions). Only the platform layer links them; style.hpp takes the bytes as arguments.
#pragma once

namespace app {

extern const unsigned char kFontRegular[];
extern const unsigned kFontRegularSize;
extern const unsigned char kFontSemiBold[];
extern const unsigned kFontSemiBoldSize;

}  // namespace app
