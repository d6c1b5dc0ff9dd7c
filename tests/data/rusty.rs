// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Fixture: Rust frames on the stack, for demangling. Spins for the number of
// seconds given in kiln_rs::Spinner::spin, called from kiln_rs::drive.
mod kiln_rs {
    pub struct Spinner {
        pub acc: u64,
    }

    impl Spinner {
        #[inline(never)]
        pub fn spin(&mut self, n: u64) -> u64 {
            for i in 0..n {
                self.acc = std::hint::black_box(self.acc.wrapping_add(i));
            }
            self.acc
        }
    }

    #[inline(never)]
    pub fn drive(rounds: u64) -> u64 {
        let mut s = Spinner { acc: 0 };
        let mut sum = 0u64;
        for _ in 0..rounds {
            sum = sum.wrapping_add(s.spin(100_000));
        }
        sum
    }
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let end = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    let mut sum = 0u64;
    while std::time::Instant::now() < end {
        sum = sum.wrapping_add(kiln_rs::drive(100));
    }
    std::process::exit(if sum == 42 { 1 } else { 0 });
}
