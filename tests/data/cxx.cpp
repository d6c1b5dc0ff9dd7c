// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Fixture: C++ namespaces and templates on the stack, for demangling. Spins
// for the number of seconds given in kiln_fx::Spinner<int>::spin(int), called
// from the function template kiln_fx::drive<long>(long).
#include <chrono>
#include <cstdlib>

namespace kiln_fx {

template <typename T> struct Spinner {
	volatile T acc = 0;
	__attribute__((noinline)) T spin(T n)
	{
		for (T i = 0; i < n; i++)
			acc = acc + i;
		return acc;
	}
};

template <typename T> __attribute__((noinline)) T drive(T rounds)
{
	Spinner<int> s;
	T sum = 0;

	for (T r = 0; r < rounds; r++)
		sum += s.spin(100000);
	return sum;
}

} // namespace kiln_fx

int main(int argc, char **argv)
{
	double secs = argc > 1 ? std::atof(argv[1]) : 5.0;
	auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
	long sum = 0;

	while (std::chrono::steady_clock::now() < end)
		sum += kiln_fx::drive<long>(100);
	return sum == 42 ? 1 : 0;
}
