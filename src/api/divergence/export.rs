//! Full exports of the round view (CSV, NDJSON) written a chunk at a time from the stored
//! analysis, so memory stays flat however many rows there are: the body is never held whole.

use std::sync::Arc;

use actix_web::web::Bytes;

use super::{DivergenceFormat, csv_out};
use crate::error::AppError;
use crate::service::divergence::Computed;
use crate::service::divergence::index::Matcher;

/// About this many bytes per chunk written to the connection.
const CHUNK: usize = 64 * 1024;

/// The rows `keeps` keeps, from index `next` on, at most `remaining` of them, as body chunks.
pub struct Rows {
    computed: Arc<Computed>,
    next: usize,
    remaining: Option<usize>,
    format: DivergenceFormat,
    keeps: Matcher,
    header_written: bool,
}

impl Rows {
    pub fn new(
        computed: Arc<Computed>,
        start: usize,
        limit: Option<usize>,
        format: DivergenceFormat,
        keeps: Matcher,
    ) -> Self {
        Self {
            computed,
            next: start,
            remaining: limit,
            format,
            keeps,
            header_written: false,
        }
    }

    fn fill(&mut self, buf: &mut Vec<u8>) -> Result<(), AppError> {
        let rows = &self.computed.analysis.rows;
        match self.format {
            DivergenceFormat::Csv => {
                let mut w = csv::Writer::from_writer(&mut *buf);
                if !self.header_written {
                    w.write_record(csv_out::header())
                        .map_err(AppError::internal)?;
                    self.header_written = true;
                }
                while w.get_ref().len() < CHUNK
                    && self.next < rows.len()
                    && self.remaining != Some(0)
                {
                    let i = self.next;
                    self.next += 1;
                    if self.computed.index.keeps(&self.keeps, i) {
                        csv_out::write_row(&mut w, &rows[i])?;
                        self.remaining = self.remaining.map(|n| n - 1);
                        w.flush().map_err(AppError::internal)?;
                    }
                }
                w.flush().map_err(AppError::internal)?;
            }
            DivergenceFormat::Ndjson | DivergenceFormat::Json => {
                while buf.len() < CHUNK && self.next < rows.len() && self.remaining != Some(0) {
                    let i = self.next;
                    self.next += 1;
                    if self.computed.index.keeps(&self.keeps, i) {
                        serde_json::to_writer(&mut *buf, &rows[i]).map_err(AppError::internal)?;
                        buf.push(b'\n');
                        self.remaining = self.remaining.map(|n| n - 1);
                    }
                }
            }
        }
        Ok(())
    }

    fn finished(&self) -> bool {
        self.header_written || self.format != DivergenceFormat::Csv
    }
}

impl Iterator for Rows {
    type Item = Result<Bytes, actix_web::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let rows = self.computed.analysis.rows.len();
        if self.finished() && (self.next >= rows || self.remaining == Some(0)) {
            return None;
        }
        let mut buf = Vec::with_capacity(CHUNK + 8 * 1024);
        if let Err(e) = self.fill(&mut buf) {
            // The status line has gone; ending the stream early is all that is left to do.
            tracing::error!(error = %e, "export stopped");
            self.next = rows;
            self.remaining = Some(0);
            self.header_written = true;
            return Some(Err(e.into()));
        }
        (!buf.is_empty()).then(|| Ok(Bytes::from(buf)))
    }
}
