//! Stand-ins for the x86-64 engines on other architectures: the tokens are uninhabited, so
//! `detect` always answers `None` and the scalar backend is used.

use super::lanes::LaneEngine;

/// Never constructed off x86-64.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Avx2 {}
/// Never constructed off x86-64.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Avx512 {}
/// Never constructed off x86-64.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ShaNi {}

impl Avx2 {
    pub(crate) fn detect() -> Option<Self> {
        None
    }
}

impl Avx512 {
    pub(crate) fn detect() -> Option<Self> {
        None
    }
}

impl ShaNi {
    pub(crate) fn detect() -> Option<Self> {
        None
    }

    pub(crate) fn compress_blocks(self, _state: &mut [u32; 8], _blocks: &[u8]) {
        match self {}
    }
}

impl LaneEngine<2> for ShaNi {
    fn compress(self, _state: &mut [[u32; 2]; 8], _w: &[[u32; 2]; 16]) {
        match self {}
    }
}

impl LaneEngine<8> for Avx2 {
    fn compress(self, _state: &mut [[u32; 8]; 8], _w: &[[u32; 8]; 16]) {
        match self {}
    }
}

impl LaneEngine<16> for Avx512 {
    fn compress(self, _state: &mut [[u32; 16]; 8], _w: &[[u32; 16]; 16]) {
        match self {}
    }
}
