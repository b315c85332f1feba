// SPDX-License-Identifier: GPL-2.0

//! Any bytes written to `register`: the parser must not panic (a kernel BUG()) or
//! loop, and every accepted string must round-trip through its register text and
//! keep its entry text; see `check_round_trip`. The same bytes written to an
//! entry's file must not panic the binding parser either; see `check_binding`.

#![no_main]

use binfmt_misc_logic::register_text::{check_binding, check_round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks what the parser finds after the input, which it must
    // not depend on: the kernel's allocation holds leftovers there.
    if let Some((&pad, input)) = data.split_first() {
        check_round_trip(input, pad);
        check_binding(input);
    }
});
