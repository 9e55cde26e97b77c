#include "common/time.h"

#include <gtest/gtest.h>

namespace tamas {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsSuffixes) {
  EXPECT_EQ(parse_duration("90").value(), 90s);
  EXPECT_EQ(parse_duration("90s").value(), 90s);
  EXPECT_EQ(parse_duration("1.5m").value(), 90s);
  EXPECT_EQ(parse_duration("8h").value(), 8h);
  EXPECT_EQ(parse_duration("250ms").value(), 250ms);
  EXPECT_EQ(parse_duration(" 30m ").value(), 30min);
  EXPECT_EQ(parse_duration("0").value(), 0s);
}

TEST(ParseDuration, RejectsGarbageWithTheText) {
  for (const char* bad : {"", "s", "abc", "-5s", "5x", "5 s", "1e400", "nan", "inf", "12mm"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_NE(r.message().find("is not a duration"), std::string::npos) << r.message();
  }
}

TEST(FormatDuration, RoundTrips) {
  for (Duration d : {Duration(0s), Duration(20s), Duration(90s), Duration(8h), Duration(3723s),
                     Duration(250ms)}) {
    EXPECT_EQ(parse_duration(format_duration(d)).value(), d) << format_duration(d);
  }
  EXPECT_EQ(format_duration(3723s), "1h2m3s");
}

}  // namespace
}  // namespace tamas
