// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Fixture: C++ built with -O2 -fomit-frame-pointer. Formats numbers through
// std::ostringstream for the seconds given, so most samples land in
// libstdc++.so (std::ostream::_M_insert<unsigned long>, num_put) and libc,
// called from kiln_nofp::format_numbers <- kiln_nofp::run <- main.
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>

namespace kiln_nofp {

__attribute__((noinline)) std::size_t format_numbers(unsigned long seed)
{
	std::ostringstream os;

	for (int i = 0; i < 256; i++)
		os << (seed * 2654435761UL + static_cast<unsigned long>(i)) << ' ';
	return os.str().size();
}

__attribute__((noinline)) std::size_t run(double secs)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
	std::size_t total = 0;

	while (std::chrono::steady_clock::now() < end)
		total += format_numbers(total);
	return total;
}

} // namespace kiln_nofp

int main(int argc, char **argv)
{
	return kiln_nofp::run(argc > 1 ? std::atof(argv[1]) : 5.0) == 42;
}
