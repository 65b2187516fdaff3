//! Core's MuHash3072 (`crypto/muhash.cpp`) and the coin serialisation `gettxoutsetinfo muhash`
//! hashes (`kernel/coinstats.cpp` `TxOutSer`).
//!
//! Elements map to 3072-bit numbers by expanding SHA256(data) with ChaCha20 (zero nonce, 384
//! bytes); the set is the product modulo p = 2^3072 - 1103717, kept as numerator/denominator so
//! removal costs one multiplication; only [`MuHash3072::finalize`] pays for an inverse.

use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::{sha256, Hash256};

const LIMBS: usize = 48;
/// 2^3072 - p.
const PRIME_DIFF: u64 = 1_103_717;
/// Serialised size of one [`Num3072`].
pub const NUM_BYTES: usize = 384;

/// A number below 2^3072 (not necessarily fully reduced below p), little-endian u64 limbs.
#[derive(Clone, PartialEq, Eq)]
pub struct Num3072([u64; LIMBS]);

impl std::fmt::Debug for Num3072 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Num3072({:016x}..)", self.0[LIMBS - 1])
    }
}

impl Num3072 {
    #[must_use]
    pub fn one() -> Self {
        let mut l = [0u64; LIMBS];
        l[0] = 1;
        Self(l)
    }

    #[must_use]
    pub fn from_bytes(b: &[u8; NUM_BYTES]) -> Self {
        let mut l = [0u64; LIMBS];
        for (limb, chunk) in l.iter_mut().zip(b.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            *limb = u64::from_le_bytes(w);
        }
        Self(l)
    }

    #[must_use]
    pub fn to_bytes(&self) -> [u8; NUM_BYTES] {
        let mut b = [0u8; NUM_BYTES];
        for (chunk, limb) in b.chunks_exact_mut(8).zip(self.0.iter()) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        b
    }

    /// True when the value is >= p (all top limbs saturated and the bottom one past -PRIME_DIFF).
    fn is_overflow(&self) -> bool {
        self.0[0] > u64::MAX - PRIME_DIFF && self.0[1..].iter().all(|l| *l == u64::MAX)
    }

    /// Subtracts p once (adds PRIME_DIFF, dropping the 2^3072 carry).
    fn full_reduce(&mut self) {
        let mut carry = PRIME_DIFF;
        for l in &mut self.0 {
            let (s, c) = l.overflowing_add(carry);
            *l = s;
            carry = u64::from(c);
        }
    }

    /// Adds `small * PRIME_DIFF` folded back into 3072 bits; returns nothing, keeps < 2^3072.
    fn add_folded(&mut self, mut carry: u128) {
        // carry is the value above 2^3072; 2^3072 ≡ PRIME_DIFF.
        while carry != 0 {
            let mut c = carry * u128::from(PRIME_DIFF);
            for l in &mut self.0 {
                if c == 0 {
                    break;
                }
                let s = u128::from(*l) + (c & u128::from(u64::MAX));
                *l = s as u64;
                c = (c >> 64) + (s >> 64);
            }
            carry = c;
        }
    }

    /// self = self * a mod p (result < 2^3072).
    pub fn multiply(&mut self, a: &Self) {
        let mut prod = [0u64; 2 * LIMBS];
        for i in 0..LIMBS {
            let x = u128::from(self.0[i]);
            let mut carry: u128 = 0;
            for j in 0..LIMBS {
                let t = x * u128::from(a.0[j]) + u128::from(prod[i + j]) + carry;
                prod[i + j] = t as u64;
                carry = t >> 64;
            }
            prod[i + LIMBS] = carry as u64;
        }
        // low + high * PRIME_DIFF.
        let mut out = [0u64; LIMBS];
        let mut carry: u128 = 0;
        for i in 0..LIMBS {
            let t =
                u128::from(prod[i]) + u128::from(prod[i + LIMBS]) * u128::from(PRIME_DIFF) + carry;
            out[i] = t as u64;
            carry = t >> 64;
        }
        self.0 = out;
        self.add_folded(carry);
        if self.is_overflow() {
            self.full_reduce();
        }
    }

    /// Fully reduced (canonical) copy.
    fn canonical(&self) -> Self {
        let mut c = self.clone();
        if c.is_overflow() {
            c.full_reduce();
        }
        c
    }

    /// Modular inverse by the binary extended Euclidean algorithm (p is odd and prime, so
    /// every non-zero value is invertible). Not constant time: MuHash inputs are public.
    fn inverse(&self) -> Self {
        let a = self.canonical();
        let mut u = Wide::from(&a);
        let mut v = Wide::modulus();
        let mut x1 = Wide::one();
        let mut x2 = Wide::zero();
        let p = Wide::modulus();
        if u.is_zero() {
            return Self(a.0); // 0 has no inverse; Core would loop too. Never reached for hashes.
        }
        while !u.is_one() && !v.is_one() {
            while u.is_even() {
                u.shr1();
                x1.half_mod(&p);
            }
            while v.is_even() {
                v.shr1();
                x2.half_mod(&p);
            }
            if u.ge(&v) {
                u.sub(&v);
                x1.sub_mod(&x2, &p);
            } else {
                v.sub(&u);
                x2.sub_mod(&x1, &p);
            }
        }
        let r = if u.is_one() { x1 } else { x2 };
        let mut out = [0u64; LIMBS];
        out.copy_from_slice(&r.0[..LIMBS]);
        Self(out)
    }
}

/// 49-limb scratch numbers for the inverse (room for x + p).
#[derive(Clone)]
struct Wide([u64; LIMBS + 1]);

impl Wide {
    fn zero() -> Self {
        Self([0; LIMBS + 1])
    }
    fn one() -> Self {
        let mut w = Self::zero();
        w.0[0] = 1;
        w
    }
    fn modulus() -> Self {
        let mut w = Self([u64::MAX; LIMBS + 1]);
        w.0[0] = u64::MAX - PRIME_DIFF + 1;
        w.0[LIMBS] = 0;
        w
    }
    fn from(n: &Num3072) -> Self {
        let mut w = Self::zero();
        w.0[..LIMBS].copy_from_slice(&n.0);
        w
    }
    fn is_zero(&self) -> bool {
        self.0.iter().all(|l| *l == 0)
    }
    fn is_one(&self) -> bool {
        self.0[0] == 1 && self.0[1..].iter().all(|l| *l == 0)
    }
    fn is_even(&self) -> bool {
        self.0[0] & 1 == 0
    }
    fn shr1(&mut self) {
        for i in 0..LIMBS {
            self.0[i] = (self.0[i] >> 1) | (self.0[i + 1] << 63);
        }
        self.0[LIMBS] >>= 1;
    }
    fn ge(&self, o: &Self) -> bool {
        for i in (0..=LIMBS).rev() {
            if self.0[i] != o.0[i] {
                return self.0[i] > o.0[i];
            }
        }
        true
    }
    fn add(&mut self, o: &Self) {
        let mut c = false;
        for i in 0..=LIMBS {
            let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(c));
            self.0[i] = s2;
            c = c1 || c2;
        }
    }
    fn sub(&mut self, o: &Self) {
        let mut b = false;
        for i in 0..=LIMBS {
            let (d1, b1) = self.0[i].overflowing_sub(o.0[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(b));
            self.0[i] = d2;
            b = b1 || b2;
        }
    }
    /// self = self / 2 mod p (self < p).
    fn half_mod(&mut self, p: &Self) {
        if !self.is_even() {
            self.add(p);
        }
        self.shr1();
    }
    /// self = self - o mod p (both < p).
    fn sub_mod(&mut self, o: &Self, p: &Self) {
        if !self.ge(o) {
            self.add(p);
        }
        self.sub(o);
    }
}

/// ChaCha20 block function (RFC 8439), zero nonce, 32-bit block counter.
fn chacha20_keystream(key: &Hash256, out: &mut [u8; NUM_BYTES]) {
    fn qr(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        s[a] = s[a].wrapping_add(s[b]);
        s[d] = (s[d] ^ s[a]).rotate_left(16);
        s[c] = s[c].wrapping_add(s[d]);
        s[b] = (s[b] ^ s[c]).rotate_left(12);
        s[a] = s[a].wrapping_add(s[b]);
        s[d] = (s[d] ^ s[a]).rotate_left(8);
        s[c] = s[c].wrapping_add(s[d]);
        s[b] = (s[b] ^ s[c]).rotate_left(7);
    }
    let mut init = [0u32; 16];
    init[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    for (w, chunk) in init[4..12].iter_mut().zip(key.chunks_exact(4)) {
        *w = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    for (block, chunk) in out.chunks_exact_mut(64).enumerate() {
        init[12] = block as u32;
        let mut s = init;
        for _ in 0..10 {
            qr(&mut s, 0, 4, 8, 12);
            qr(&mut s, 1, 5, 9, 13);
            qr(&mut s, 2, 6, 10, 14);
            qr(&mut s, 3, 7, 11, 15);
            qr(&mut s, 0, 5, 10, 15);
            qr(&mut s, 1, 6, 11, 12);
            qr(&mut s, 2, 7, 8, 13);
            qr(&mut s, 3, 4, 9, 14);
        }
        for (i, word) in chunk.chunks_exact_mut(4).enumerate() {
            word.copy_from_slice(&s[i].wrapping_add(init[i]).to_le_bytes());
        }
    }
}

/// Core's `MuHash3072::ToNum3072`.
#[must_use]
pub fn element_to_num(data: &[u8]) -> Num3072 {
    let mut tmp = [0u8; NUM_BYTES];
    chacha20_keystream(&sha256(data), &mut tmp);
    Num3072::from_bytes(&tmp)
}

/// A MuHash set accumulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MuHash3072 {
    numerator: Num3072,
    denominator: Num3072,
}

impl Default for MuHash3072 {
    fn default() -> Self {
        Self::new()
    }
}

impl MuHash3072 {
    /// The empty set.
    #[must_use]
    pub fn new() -> Self {
        Self {
            numerator: Num3072::one(),
            denominator: Num3072::one(),
        }
    }

    /// A singleton set (Core's `MuHash3072(span)`).
    #[must_use]
    pub fn singleton(data: &[u8]) -> Self {
        Self {
            numerator: element_to_num(data),
            denominator: Num3072::one(),
        }
    }

    pub fn insert(&mut self, data: &[u8]) {
        self.numerator.multiply(&element_to_num(data));
    }

    pub fn remove(&mut self, data: &[u8]) {
        self.denominator.multiply(&element_to_num(data));
    }

    /// Union (Core's `operator*=`).
    pub fn combine(&mut self, other: &Self) {
        self.numerator.multiply(&other.numerator);
        self.denominator.multiply(&other.denominator);
    }

    /// Difference (Core's `operator/=`).
    pub fn subtract(&mut self, other: &Self) {
        self.numerator.multiply(&other.denominator);
        self.denominator.multiply(&other.numerator);
    }

    /// SHA256 of the reduced value, in internal byte order (reverse it for Core's display hex).
    #[must_use]
    pub fn finalize(&self) -> Hash256 {
        let mut n = self.numerator.canonical();
        n.multiply(&self.denominator.inverse());
        sha256(&n.canonical().to_bytes())
    }

    /// Core's serialisation: numerator then denominator limbs (768 bytes).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(2 * NUM_BYTES);
        v.extend_from_slice(&self.numerator.to_bytes());
        v.extend_from_slice(&self.denominator.to_bytes());
        v
    }

    /// Inverse of [`Self::to_bytes`]; `None` if `b` is not 768 bytes.
    #[must_use]
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let (n, d) = (b.get(..NUM_BYTES)?, b.get(NUM_BYTES..2 * NUM_BYTES)?);
        if b.len() != 2 * NUM_BYTES {
            return None;
        }
        let mut na = [0u8; NUM_BYTES];
        na.copy_from_slice(n);
        let mut da = [0u8; NUM_BYTES];
        da.copy_from_slice(d);
        Some(Self {
            numerator: Num3072::from_bytes(&na),
            denominator: Num3072::from_bytes(&da),
        })
    }
}

/// Core's `TxOutSer`: outpoint, `u32 (height << 1 | coinbase)`, then the `CTxOut`.
#[must_use]
pub fn coin_element(op: &OutPoint, coin: &Coin) -> Vec<u8> {
    let mut v = Vec::with_capacity(36 + 4 + 8 + 9 + coin.script_pubkey.len());
    v.extend_from_slice(&op.txid);
    v.extend_from_slice(&op.vout.to_le_bytes());
    v.extend_from_slice(&((coin.height << 1) | u32::from(coin.coinbase)).to_le_bytes());
    v.extend_from_slice(&coin.value.to_le_bytes());
    let n = coin.script_pubkey.len() as u64;
    match n {
        0..=0xfc => v.push(n as u8),
        0xfd..=0xffff => {
            v.push(0xfd);
            v.extend_from_slice(&(n as u16).to_le_bytes());
        }
        _ => {
            v.push(0xfe);
            v.extend_from_slice(&(n as u32).to_le_bytes());
        }
    }
    v.extend_from_slice(&coin.script_pubkey);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_consensus::hash::to_display_hex;

    fn from_int(i: u8) -> MuHash3072 {
        let mut tmp = [0u8; 32];
        tmp[0] = i;
        MuHash3072::singleton(&tmp)
    }

    #[test]
    fn chacha20_rfc8439_block() {
        // RFC 8439 2.3.2 uses a non-zero nonce; the all-zero key/nonce vector (RFC 7539 A.1 #1).
        let mut out = [0u8; NUM_BYTES];
        chacha20_keystream(&[0; 32], &mut out);
        assert_eq!(
            hex::encode(&out[..64]),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
        );
    }

    #[test]
    fn core_muhash_vectors() {
        let mut acc = from_int(0);
        acc.combine(&from_int(1));
        acc.subtract(&from_int(2));
        assert_eq!(
            to_display_hex(&acc.finalize()),
            "10d312b100cbd32ada024a6646e40d3482fcff103668d2625f10002a607d5863"
        );

        let mut acc2 = from_int(0);
        let mut one = [0u8; 32];
        one[0] = 1;
        acc2.insert(&one);
        let mut two = [0u8; 32];
        two[0] = 2;
        acc2.remove(&two);
        assert_eq!(acc2.finalize(), acc.finalize());

        let mut serchk = from_int(1);
        serchk.combine(&from_int(2));
        let ser = hex::encode(serchk.to_bytes());
        assert_eq!(
            ser,
            "1fa093295ea30a6a3acdc7b3f770fa538eff537528e990e2910e40bbcfd7f6696b1256901929094694b56316de342f593303dd12ac43e06dce1be1ff8301c845beb15468fff0ef002dbf80c29f26e6452bccc91b5cb9437ad410d2a67ea847887fa3c6a6553309946880fe20db2c73fe0641adbd4e86edfee0d9f8cd0ee1230898873dc13ed8ddcaf045c80faa082774279007a2253f8922ee3ef361d378a6af3ddaf180b190ac97e556888c36b3d1fb1c85aab9ccd46e3deaeb7b7cf5db067a7e9ff86b658cf3acd6662bbcce37232daa753c48b794356c020090c831a8304416e2aa7ad633c0ddb2f11be1be316a81be7f7e472071c042cb68faef549c221ebff209273638b741aba5a81675c45a5fa92fea4ca821d7a324cb1e1a2ccd3b76c4228ec8066dad2a5df6e1bd0de45c7dd5de8070bdb46db6c554cf9aefc9b7b2bbf9f75b1864d9f95005314593905c0109b71f703d49944ae94477b51dac10a816bb6d1c700bafabc8bd86fac8df24be519a2f2836b16392e18036cb13e48c5c010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        );
        let back = MuHash3072::from_bytes(&serchk.to_bytes()).unwrap();
        assert_eq!(back.finalize(), serchk.finalize());

        // Overflow: numerator 2^3072 - 1 (above the modulus), denominator 1.
        let mut max = vec![0xffu8; NUM_BYTES];
        let mut one_num = vec![0u8; NUM_BYTES];
        one_num[0] = 1;
        max.extend_from_slice(&one_num);
        let overflow = MuHash3072::from_bytes(&max).unwrap();
        // Core prints this one with HexStr (internal byte order).
        assert_eq!(
            hex::encode(overflow.finalize()),
            "3a31e6903aff0de9f62f9a9f7f8b861de76ce2cda09822b90014319ae5dc2271"
        );
    }

    #[test]
    fn order_and_inverse_properties() {
        // Core's randomised checks, with a fixed table.
        for table in [[0u8, 5, 3, 6], [7, 1, 2, 4], [1, 1, 5, 5]] {
            let mut res = None;
            for order in 0..4 {
                let mut acc = MuHash3072::new();
                for i in 0..4 {
                    let t = table[i ^ order];
                    if t & 4 != 0 {
                        acc.subtract(&from_int(t & 3));
                    } else {
                        acc.combine(&from_int(t & 3));
                    }
                }
                let out = acc.finalize();
                assert_eq!(*res.get_or_insert(out), out);
            }
        }
        let x = from_int(9);
        let mut y = from_int(13);
        let mut z = MuHash3072::new();
        z.combine(&x);
        z.combine(&y);
        y.combine(&x);
        z.subtract(&y);
        assert_eq!(z.finalize(), MuHash3072::new().finalize());
    }
}
