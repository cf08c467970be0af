//! The one font every chart is measured and drawn with, compiled in so a PNG looks the same on
//! every machine and never depends on the system's fonts (DejaVu Sans; licence in
//! assets/DejaVuSans-LICENSE.txt). The SVGs name the family `sans-serif`, which the browser
//! resolves itself; the layout was measured with DejaVu's metrics.

use std::sync::OnceLock;

use plotters::style::FontStyle;

/// The family name charts ask for.
pub const FAMILY: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the embedded font with plotters once per process; every later call returns the
/// first call's outcome.
pub fn register() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
            .map_err(|_| "the embedded font DejaVuSans.ttf could not be parsed".to_string())
    })
    .clone()
}
