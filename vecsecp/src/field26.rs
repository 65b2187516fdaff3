//! Field products through 32-bit multiplies (radix 2^26), for backends without a 52-bit
//! multiply (AVX2's `vpmuludq`: low 32 bits times low 32 bits, 64-bit product).
//!
//! Elements stay in the radix-2^52 form of `field.rs`; only `mul` and `sqr` change. Each
//! magnitude-1 limb splits into two 26-bit digits, the 10×10 digit products (each below 2^52)
//! sum exactly in 19 columns of 64 bits, and the columns at or above 2^260 fold down with
//! 2^260 ≡ R = 2^36 + 0x3D10 (mod p): 0x3D10 is small enough for a 32-bit multiply and 2^36 is
//! a shift. Why not emulate the 52-bit multiplies instead: each would take four 32-bit
//! products plus recombination, about twice the instructions of this layout.

use crate::field::Fe;
use crate::lanes::Lane64;

/// 2^26 − 1.
const M26: u64 = (1 << 26) - 1;
/// R − 2^36, where R = 2^260 mod p.
const R_LOW: u64 = 0x3D10;

impl<V: Lane64> Fe<V> {
    /// The ten 26-bit digits of a magnitude-1 element: limbs 0..3 (below 2^52) give two digits
    /// below 2^26, limb 4 (at most 2^48 + 2^11) a low digit below 2^26 and a high one ≤ 2^22.
    #[inline(always)]
    fn digits26(&self) -> [V; 10] {
        let m26 = V::splat(M26);
        let mut d = [m26; 10];
        for (i, limb) in self.l.iter().enumerate() {
            d[2 * i] = limb.and(m26);
            d[2 * i + 1] = limb.shr::<26>();
        }
        d
    }

    /// `self·o` through 32-bit multiplies. Both magnitude 1; result magnitude 1.
    /// Column k sums at most ten products below 2^52: below 2^56.
    #[inline(always)]
    pub(crate) fn mul26(&self, o: &Self) -> Self {
        debug_assert!(self.mag <= 1 && o.mag <= 1, "mul needs carried operands");
        let (a, b) = (self.digits26(), o.digits26());
        let mut c = [V::splat(0); 19];
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                c[i + j] = c[i + j].add(x.mul32(*y));
            }
        }
        Self::reduce26(c)
    }

    /// `self²` through 32-bit multiplies. Magnitude 1 in and out. Cross products once with a
    /// doubled digit (below 2^27, products below 2^53), plus the squares: column k sums at most
    /// five cross products and one square, below 2^56.
    #[inline(always)]
    pub(crate) fn sqr26(&self) -> Self {
        debug_assert!(self.mag <= 1, "sqr needs a carried operand");
        let a = self.digits26();
        let mut c = [V::splat(0); 19];
        for i in 0..10 {
            let twice = a[i].add(a[i]);
            c[2 * i] = c[2 * i].add(a[i].mul32(a[i]));
            for j in i + 1..10 {
                c[i + j] = c[i + j].add(twice.mul32(a[j]));
            }
        }
        Self::reduce26(c)
    }

    /// Reduces the 19 digit columns of a product (each below 2^56) to a magnitude-1 element.
    ///
    /// 1. Columns 10..18 are carried so each is below 2^26; the carry out of 18 becomes column
    ///    19, below 2^30 (the columns weigh less than 2^56·2^(26·8)·(1 + 2^−25) < 2^264 above
    ///    2^260, and column 19 weighs 2^234 of that).
    /// 2. Column 10 + k ≡ 2^(26k)·(2^36 + 0x3D10): it adds d·0x3D10 (< 2^44) to column k and
    ///    d·2^10 (< 2^40) to column k + 1. Column 19's 2^36 part lands at 2^270 ≡
    ///    2^10·(2^36 + 0x3D10): d·2^20 into column 1 (< 2^50), d·0x3D10·2^10 into column 0
    ///    (< 2^54). Every column stays below 2^56 + 2^55.
    /// 3. Column 9's bits from 26 up (< 2^31) fold the same way into columns 0 and 1.
    /// 4. Columns 0..8 carry into 9, leaving them below 2^26 and column 9 below 2^32.
    /// 5. Pairs of columns make limbs 0..3 below 2^52 and limb 4 below 2^58, and the radix-2^52
    ///    carry chain folds limb 4's bits from 48 up: magnitude 1.
    #[inline(always)]
    fn reduce26(c: [V; 19]) -> Self {
        let m26 = V::splat(M26);
        let r_low = V::splat(R_LOW);
        let mut hi = [V::splat(0); 10];
        hi[..9].copy_from_slice(&c[10..]);
        for k in 0..9 {
            hi[k + 1] = hi[k + 1].add(hi[k].shr::<26>());
            hi[k] = hi[k].and(m26);
        }
        let mut t = [V::splat(0); 10];
        t.copy_from_slice(&c[..10]);
        for k in 0..9 {
            t[k] = t[k].add(hi[k].mul32(r_low));
            t[k + 1] = t[k + 1].add(hi[k].shl::<10>());
        }
        let d19 = hi[9].mul32(r_low);
        t[9] = t[9].add(d19);
        t[0] = t[0].add(d19.shl::<10>());
        t[1] = t[1].add(hi[9].shl::<20>());
        let h = t[9].shr::<26>();
        t[9] = t[9].and(m26);
        t[0] = t[0].add(h.mul32(r_low));
        t[1] = t[1].add(h.shl::<10>());
        for j in 0..9 {
            t[j + 1] = t[j + 1].add(t[j].shr::<26>());
            t[j] = t[j].and(m26);
        }
        let mut l = [V::splat(0); 5];
        for (i, limb) in l.iter_mut().enumerate() {
            *limb = t[2 * i].add(t[2 * i + 1].shl::<26>());
        }
        Self::carry_limbs(l)
    }
}
