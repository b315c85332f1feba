// SPDX-License-Identifier: GPL-2.0

//! Errnos the `kernel` crate does not name (checked against 6.12).

use kernel::error::Error;

/// `ENAMETOOLONG`.
#[allow(non_snake_case)]
pub(crate) fn ENAMETOOLONG() -> Error {
    Error::from_errno(-(kernel::bindings::ENAMETOOLONG as i32))
}
