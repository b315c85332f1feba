// SPDX-License-Identifier: GPL-2.0

//! Any bytes, read as an entry set and binaries: the index must find the entry
//! upstream's walk finds and ask the same 'B' entries in the same order; see
//! `lookup_check::check`.

#![no_main]

use binfmt_misc_logic::lookup_check::check_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_bytes(data));
