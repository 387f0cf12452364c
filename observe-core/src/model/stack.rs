//! Stack traces for `error_occurred` events: captured on the caller's thread
//! as bare instruction pointers (a few microseconds, no lock shared with the
//! symbolizer, so a caller never waits while the worker resolves symbols),
//! and resolved into `function (file:line)` frames on the worker.

mod frames;
mod paths;

use std::ffi::c_void;

pub(crate) use paths::relative as relative_path;

use crate::model::error_payload::MAX_STACK_FRAMES;

/// Most frames captured; frames beyond are counted as omitted.
const MAX_CAPTURED_FRAMES: usize = 64;

/// The instruction pointers of a stack, innermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapturedStack {
    ips: Vec<usize>,
    /// Frames beyond [`MAX_CAPTURED_FRAMES`], not captured.
    truncated: bool,
}

impl CapturedStack {
    /// Captures the calling thread's stack.
    #[inline(never)]
    pub fn capture() -> CapturedStack {
        let mut stack = CapturedStack {
            ips: Vec::with_capacity(MAX_CAPTURED_FRAMES),
            truncated: false,
        };
        let mut visit = |frame: &backtrace::Frame| {
            if stack.ips.len() == MAX_CAPTURED_FRAMES {
                stack.truncated = true;
                return false;
            }
            stack.ips.push(frame.ip() as usize);
            true
        };
        #[cfg(unix)]
        // SAFETY: on unix the unwinder (libgcc / libunwind) is thread-safe;
        // the crate's lock exists for Windows' dbghelp. Not taking it means
        // a caller never waits for the worker resolving symbols.
        unsafe {
            backtrace::trace_unsynchronized(&mut visit)
        };
        #[cfg(not(unix))]
        backtrace::trace(&mut visit);
        stack
    }

    /// How many frames were captured.
    pub fn len(&self) -> usize {
        self.ips.len()
    }

    /// Whether no frame was captured.
    pub fn is_empty(&self) -> bool {
        self.ips.is_empty()
    }

    /// Resolves the stack into at most [`MAX_STACK_FRAMES`] frames written
    /// as `function (file:line)`, innermost first: the user's frames only
    /// (the capture, the panic runtime, call shims and `observe` are left
    /// out wherever they are, and the standard library above the first
    /// frame of the user's code) with relative paths (the standard library
    /// as `library/...`, dependencies crate-relative, the application's
    /// files workspace- or package-relative); returns them with the number
    /// of frames left out at the bottom. Slow (it reads debug information):
    /// call it on the worker.
    pub fn resolve(&self) -> (Vec<String>, usize) {
        let mut kept = Vec::new();
        let mut reached_user_code = false;
        for &ip in &self.ips {
            backtrace::resolve(ip as *mut c_void, |symbol| {
                let function = symbol
                    .name()
                    .map_or_else(|| format!("{ip:#x}"), |n| format!("{n:#}"));
                let file = symbol.filename().map(paths::relative);
                if frames::is_machinery(&function, file.as_deref())
                    || (!reached_user_code
                        && frames::is_standard_library(&function, file.as_deref()))
                {
                    return;
                }
                reached_user_code = true;
                kept.push(match (file, symbol.lineno()) {
                    (Some(file), Some(line)) => format!("{function} ({file}:{line})"),
                    _ => function,
                });
            });
        }
        let omitted = kept.len().saturating_sub(MAX_STACK_FRAMES) + usize::from(self.truncated);
        kept.truncate(MAX_STACK_FRAMES);
        (kept, omitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn nested(depth: u32) -> CapturedStack {
        if depth == 0 {
            CapturedStack::capture()
        } else {
            std::hint::black_box(nested(depth - 1))
        }
    }

    #[test]
    fn resolves_the_callers_frames_first_and_caps_them() {
        let stack = nested(15);
        assert!(stack.len() > 15);
        let (frames, omitted) = stack.resolve();
        assert_eq!(frames.len(), MAX_STACK_FRAMES);
        assert!(omitted > 0, "{omitted}");
        assert!(frames[0].contains("nested"), "{frames:?}");
        assert!(frames.iter().all(|f| !f.starts_with("backtrace::")));
    }

    #[test]
    fn deep_stacks_are_cut_at_capture() {
        let stack = nested(200);
        assert_eq!(stack.len(), MAX_CAPTURED_FRAMES);
        assert!(stack.truncated);
    }
}
