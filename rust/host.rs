// SPDX-License-Identifier: GPL-2.0

//! Host crate root: the module's pure logic, compiled with std for tests and fuzzing.
//! The kernel crate root (`binfmt_misc_rs.rs`) includes the same files.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod bpf_rules;
pub mod format;
pub mod grammar;
pub mod lookup;
pub mod lookup_check;
pub mod matching;
pub mod register_text;

#[cfg(test)]
mod tests;
