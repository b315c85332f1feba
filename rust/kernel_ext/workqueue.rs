// SPDX-License-Identifier: GPL-2.0

//! The module's workqueue and its one delayed work, both statics of
//! include/helpers.c: `INIT_RCU_WORK()` and `DECLARE_DELAYED_WORK()` are macros.

use super::bindings as b;
use super::callback_state::{CallbackState, HasCallbackState};
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::sync::Arc;

/// The module's workqueue, on which values retired from RCU are freed: the
/// module's exit waits for every free queued there, since they run its code.
///
/// # Invariants
///
/// The workqueue exists from `new` until `drop`.
pub(crate) struct ModuleQueue(());

impl ModuleQueue {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: Paired with `bmrs_workqueue_exit` in `drop`.
        to_result(unsafe { b::bmrs_workqueue_init() })?;
        Ok(Self(()))
    }
}

impl Drop for ModuleQueue {
    fn drop(&mut self) {
        // SAFETY: Made in `new`. Waits for the grace periods of queued frees,
        // then for the frees.
        unsafe { b::bmrs_workqueue_exit() };
    }
}

/// Queues `free` to run on the module's workqueue once a grace period has
/// passed.
///
/// # Safety
///
/// `rwork` must be an unused `rcu_work` that lives until `free` runs. Without a
/// live [`ModuleQueue`] the C side warns and frees inline after a grace period,
/// so the caller must then be allowed to sleep.
pub(super) unsafe fn queue_rcu_free(
    rwork: *mut b::rcu_work,
    free: unsafe extern "C" fn(*mut b::work_struct),
) {
    // SAFETY: As the caller promises.
    unsafe { b::bmrs_queue_rcu_free(rwork, Some(free)) };
}

/// What the module's delayed work does.
pub(crate) trait DelayedWork: HasCallbackState {
    fn run(&self);
}

/// The module's delayed work, running `T::run`: set up by `new`, stopped by
/// `drop`, which waits for a run in progress. Scheduling it meanwhile
/// ([`schedule_delayed_work`]) does nothing.
pub(crate) struct DelayedWorkRegistration<T: DelayedWork> {
    _state: Arc<T>,
}

impl<T: DelayedWork> DelayedWorkRegistration<T> {
    pub(crate) fn new(state: Arc<T>) -> Result<Self> {
        CallbackState::publish(&state)?;
        // SAFETY: `run_delayed::<T>` may run until `drop` stops the work, while
        // `state` is held. `EBUSY` if the work is set up already.
        to_result(unsafe { b::bmrs_delayed_work_setup(Some(run_delayed::<T>)) })?;
        Ok(Self { _state: state })
    }
}

impl<T: DelayedWork> Drop for DelayedWorkRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: Set up in `new`; once this returns the work neither runs nor
        // can be scheduled.
        unsafe { b::bmrs_delayed_work_stop() };
    }
}

/// Runs the module's delayed work after `delay_ms`, or sooner if it is
/// scheduled already; nothing if it is not set up.
pub(crate) fn schedule_delayed_work(delay_ms: u32) {
    // SAFETY: The C side schedules only a work that is set up and not stopped.
    unsafe { b::bmrs_delayed_work_schedule(delay_ms) };
}

/// # Safety
///
/// Only as the function of the delayed work, which a
/// [`DelayedWorkRegistration<T>`] set up.
unsafe extern "C" fn run_delayed<T: DelayedWork>() {
    // SAFETY: The registration stops the work before it lets the state go.
    let state = unsafe { CallbackState::<T>::get() };
    state.run();
}
