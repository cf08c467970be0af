//! A progress bar on stderr for long runs, only when stderr is a terminal.

use netanom_engine::Progress;

pub struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    pub fn new(enabled: bool) -> ProgressBar {
        ProgressBar { bar: enabled.then(indicatif::ProgressBar::hidden) }
    }

    pub fn update(&mut self, p: &Progress) {
        let Some(bar) = &self.bar else { return };
        if bar.is_hidden() {
            // Shown only once there is something to show, so quick runs print nothing.
            if p.packets == 0 {
                return;
            }
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            let style =
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
        }
        bar.set_prefix(format!("file {}/{}", p.file + 1, p.files));
        bar.set_length(p.file_size.max(p.file_bytes));
        bar.set_position(p.file_bytes);
        bar.set_message(format!("{} packets", p.packets));
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
