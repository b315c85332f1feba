// SPDX-License-Identifier: GPL-2.0

//! Host tests of the pure logic. Expected values come from upstream's C
//! (fs/binfmt_misc.c, lib/string_helpers.c, lib/kstrtox.c) read by hand.

use crate::format::{status_text, write_entry, ByteSink};
use crate::grammar::*;
use crate::matching::{matches, Candidate};
use crate::register_text::{check_binding, check_round_trip};
use std::string::String;
use std::vec::Vec;

struct Text(Vec<u8>);

impl core::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl ByteSink for Text {
    fn write_bytes(&mut self, bytes: &[u8]) -> core::fmt::Result {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

fn buffer(input: &[u8]) -> Vec<u8> {
    let mut buf = input.to_vec();
    buf.extend_from_slice(&[0xa5; PAD]);
    buf
}

fn parse(input: &[u8]) -> Result<(Vec<u8>, Registration), Invalid> {
    let mut buf = buffer(input);
    let reg = parse_register(&mut buf)?;
    Ok((buf, reg))
}

fn entry_text(input: &[u8]) -> String {
    entry_text_with(input, true, &[])
}

/// The text of the entry `input` registers, with `bindings` as (name, path).
fn entry_text_with(input: &[u8], enabled: bool, bindings: &[(&str, &str)]) -> String {
    let (buf, reg) = parse(input).expect("valid registration");
    let mut out = Text(Vec::new());
    let bindings = bindings
        .iter()
        .map(|(name, path)| (name.as_bytes(), path.as_bytes()));
    write_entry(&mut out, &buf, &reg, enabled, bindings).unwrap();
    String::from_utf8(out.0).unwrap()
}

fn assert_all_rejected(cases: &[&[u8]]) {
    for case in cases {
        assert_eq!(
            parse(case),
            Err(Invalid),
            "{:?}",
            String::from_utf8_lossy(case)
        );
    }
}

#[test]
fn extension_entry() {
    let (buf, reg) = parse(b":qemu-sh:E::sh::/bin/sh:\n").unwrap();
    assert_eq!(&buf[reg.name.clone()], b"qemu-sh");
    assert_eq!(buf[reg.name.end], 0);
    assert_eq!(reg.matcher, Matcher::Extension(12..14));
    assert_eq!(&buf[reg.interpreter.clone()], b"/bin/sh");
    assert_eq!(buf[reg.interpreter.end], 0);
    assert_eq!(reg.flags, Flags::default());
    assert!(!reg.disabled);
    assert_eq!(
        entry_text(b":qemu-sh:E::sh::/bin/sh:"),
        "enabled\ninterpreter /bin/sh\nflags: \nextension .sh\n"
    );
}

#[test]
fn extension_skips_offset_and_mask_contents() {
    let (buf, reg) = parse(b":n:E:junk:ext:junk:/i:").unwrap();
    let Matcher::Extension(ext) = reg.matcher else {
        panic!()
    };
    assert_eq!(&buf[ext], b"ext");
}

#[test]
fn magic_entry_with_mask_and_flags() {
    let text = entry_text(b":m:M:2:\\x12\\x34:\\xff\\x0f:/bin/sh:PF");
    assert_eq!(
        text,
        "enabled\ninterpreter /bin/sh\nflags: PF\noffset 2\nmagic 1234\nmask ff0f\n"
    );
}

#[test]
fn magic_of_qemu_binfmt_conf() {
    // The aarch64 line of qemu's scripts/qemu-binfmt-conf.sh, as systemd writes it.
    let line = b":qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:FC";
    let text = entry_text(line);
    assert_eq!(
        text,
        "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: OCF\noffset 0\n\
         magic 7f454c460201010000000000000000000200b700\n\
         mask ffffffffffffff00fffffffffffffffffeffffff\n"
    );
}

#[test]
fn c_implies_o_and_flags_repeat() {
    let (_, reg) = parse(b":n:E::e::/i:CCP\n").unwrap();
    assert_eq!(
        reg.flags,
        Flags {
            preserve_argv0: true,
            open_binary: true,
            credentials: true,
            ..Flags::default()
        }
    );
}

#[test]
fn escapes_follow_string_unescape() {
    // One hex digit is enough for the unescape, but scanarg() wants two.
    assert_eq!(parse(b":n:M::\\x4:/i:"), Err(Invalid));
    // A backslash followed by a non-escape is copied with that byte, so in `\\x41`
    // the second backslash starts no escape and all five bytes stay.
    let (buf, reg) = parse(b":n:M::\\\\x41::/i:").unwrap();
    let Matcher::Magic { magic, mask, .. } = reg.matcher else {
        panic!()
    };
    assert_eq!(&buf[magic], b"\\\\x41");
    assert_eq!(mask, None);
    // An escaped delimiter does not end the field.
    let (buf, reg) = parse(b":n:M::a\\x3ab::/i:").unwrap();
    let Matcher::Magic { magic, .. } = reg.matcher else {
        panic!()
    };
    assert_eq!(&buf[magic], b"a:b");
    // A decoded NUL is part of the magic.
    let (buf, reg) = parse(b":n:M::\\x00\\x01::/i:").unwrap();
    let Matcher::Magic { magic, .. } = reg.matcher else {
        panic!()
    };
    assert_eq!(&buf[magic], b"\0\x01");
}

#[test]
fn offsets_follow_kstrtoint() {
    for (field, offset) in [("0", 0), ("+7", 7), ("-0", 0), ("12\n", 12)] {
        let input = std::format!(":n:M:{field}:ab::/i:");
        let (_, reg) = parse(input.as_bytes()).unwrap_or_else(|_| panic!("{field:?}"));
        let Matcher::Magic { offset: got, .. } = reg.matcher else {
            panic!()
        };
        assert_eq!(got, offset, "{field:?}");
    }
    for field in [
        "-1",
        "x",
        "1x",
        "0x10",
        "+-1",
        // kstrtoll() takes a `-` and then no `+`.
        "-+0",
        "++1",
        "2147483648",
        "99999999999999999999",
        " 1",
    ] {
        let input = std::format!(":n:M:{field}:ab::/i:");
        assert_eq!(parse(input.as_bytes()), Err(Invalid), "{field:?}");
    }
}

#[test]
fn magic_must_fit_the_exec_buffer() {
    assert!(parse(b":n:M:254:ab::/i:").is_ok());
    assert_eq!(parse(b":n:M:255:ab::/i:"), Err(Invalid));
    let big: String = "\\x01".repeat(257);
    assert_eq!(
        parse(std::format!(":n:M::{big}::/i:").as_bytes()),
        Err(Invalid)
    );
    let max: String = "\\x01".repeat(256);
    assert!(parse(std::format!(":n:M::{max}::/i:").as_bytes()).is_ok());
}

#[test]
fn rejected_registrations() {
    let cases: &[&[u8]] = &[
        b":a:E::e::/i",          // too short
        b":n:E::e::/bin/sh",     // no delimiter after the interpreter
        b":n:X::e::/bin/sh:",    // unknown type
        b":.:E::e::/bin/sh:",    // name "."
        b":..:E::e::/bin/sh:",   // name ".."
        b":a/b:E::e::/bin/sh:",  // name with '/'
        b"::E::ext::/bin/sh:",   // empty name
        b":n:E::::/bin/sh:",     // empty extension
        b":n:E::a/b::/bin/sh:",  // extension with '/'
        b":n:M::::/bin/sh:",     // empty magic
        b":n:M::ab:a:/bin/sh:",  // mask shorter than magic
        b":n:E::ext:::",         // empty interpreter
        b":n:E::ext::/bin/sh:Z", // unknown flag
        b":n:E::ext::/bin/sh:P\n\n",
        b"PnPEPPextPP/bin/shP",  // flag letter as delimiter
        b":n:EE::ext::/bin/sh:", // type is one letter
        b":n:E::e\0t::/bin/sh:", // NUL inside a field
    ];
    assert_all_rejected(cases);
    let long = [b'x'; MAX_REGISTER_LENGTH + 1];
    assert_eq!(parse(&long), Err(Invalid));
}

#[test]
fn other_delimiters() {
    let (buf, reg) = parse(b"|n|E||ext||/bin/sh|O").unwrap();
    assert_eq!(&buf[reg.interpreter.clone()], b"/bin/sh");
    assert!(reg.flags.open_binary);
}

#[test]
fn extension_matching_uses_the_whole_path() {
    let (buf, reg) = parse(b":n:E::sh::/bin/sh:").unwrap();
    let header = [0u8; BINPRM_BUF_SIZE];
    let at = |path: &[u8]| {
        matches(
            &reg.matcher,
            &buf,
            &Candidate {
                header: &header,
                path,
            },
        )
    };
    assert!(at(b"/tmp/x.sh"));
    assert!(at(b"a.b.sh"));
    assert!(!at(b"/tmp/x.shx"));
    assert!(!at(b"/tmp/sh"));
    assert!(!at(b"/tmp.sh/x"));
}

#[test]
fn magic_matching_with_mask_and_offset() {
    let (buf, reg) = parse(b":n:M:1:\\x10\\x20:\\xf0\\xff:/i:").unwrap();
    let mut header = [0u8; BINPRM_BUF_SIZE];
    let at = |h: &[u8; BINPRM_BUF_SIZE]| {
        matches(
            &reg.matcher,
            &buf,
            &Candidate {
                header: h,
                path: b"/x",
            },
        )
    };
    header[1] = 0x1f;
    header[2] = 0x20;
    assert!(at(&header));
    header[2] = 0x21;
    assert!(!at(&header));
    let (buf, reg) = parse(b":n:M:254:\\x01\\x02::/i:").unwrap();
    header[254] = 1;
    header[255] = 2;
    assert!(matches(
        &reg.matcher,
        &buf,
        &Candidate {
            header: &header,
            path: b"/x"
        }
    ));
}

#[test]
fn commands() {
    assert_eq!(parse_command(b""), Ok(Command::Nothing));
    assert_eq!(parse_command(b"0"), Ok(Command::Disable));
    assert_eq!(parse_command(b"1\n"), Ok(Command::Enable));
    assert_eq!(parse_command(b"-1\n"), Ok(Command::Remove));
    for bad in [&b"2"[..], b"11", b"-2", b"\n", b"-1\n\n", b" 1", b"1 "] {
        assert_eq!(parse_command(bad), Err(Invalid), "{bad:?}");
    }
    assert_eq!(status_text(true), "enabled\n");
    assert_eq!(status_text(false), "disabled\n");
}

/// A small deterministic generator: the tests must be repeatable.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random register strings, well-formed or mutated, must never panic the parser
/// (in the kernel, a panic is a BUG()), and what it accepts must hold the
/// invariants the kernel side relies on.
#[test]
fn random_registrations_keep_invariants() {
    const ALPHABET: &[u8] = b":|\\x09afAFMEBPOCFTLD\n\0/.-+ ";
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut accepted = 0;
    let mut accepted_bpf = 0;
    for _ in 0..200_000 {
        let mut input = Vec::new();
        let del = if rng.below(8) == 0 { b'|' } else { b':' };
        let field = |rng: &mut XorShift, input: &mut Vec<u8>, hex: bool| {
            for _ in 0..rng.below(6) {
                if hex && rng.below(2) == 0 {
                    input.extend_from_slice(b"\\x");
                    for _ in 0..2 {
                        input.push(b"0123456789abcdefABCDEFg"[rng.below(23)]);
                    }
                } else {
                    input.push(b"abcz./\\x"[rng.below(8)]);
                }
            }
        };
        input.push(del);
        field(&mut rng, &mut input, false);
        input.push(del);
        let entry_type = b"MEMEBX"[rng.below(6)];
        input.push(entry_type);
        input.push(del);
        // Most `B` strings leave offset, magic and mask empty, as they must.
        let bare = entry_type == b'B' && rng.below(4) != 0;
        if !bare && rng.below(2) == 0 {
            let offset = std::format!("{}", rng.below(300));
            input.extend_from_slice(offset.as_bytes());
        }
        input.push(del);
        if !bare {
            field(&mut rng, &mut input, true);
        }
        input.push(del);
        if !bare {
            field(&mut rng, &mut input, true);
        }
        input.push(del);
        input.push(b'/');
        field(&mut rng, &mut input, false);
        input.push(del);
        for _ in 0..rng.below(4) {
            input.push(b"POCFTLDDZ"[rng.below(9)]);
        }
        if rng.below(2) == 0 {
            input.push(b'\n');
        }
        // A third of the inputs get a few random bytes changed.
        if rng.below(3) == 0 {
            for _ in 0..=rng.below(3) {
                let at = rng.below(input.len());
                input[at] = ALPHABET[rng.below(ALPHABET.len())];
            }
        }

        let mut buf = buffer(&input);
        let Ok(reg) = parse_register(&mut buf) else {
            continue;
        };
        accepted += 1;
        let count = input.len();
        for range in [&reg.name, &reg.interpreter] {
            assert!(!range.is_empty() && range.end < count);
            assert_eq!(buf[range.end], 0);
            assert!(!buf[range.clone()].contains(&0));
        }
        match &reg.matcher {
            Matcher::Extension(ext) => {
                assert!(!ext.is_empty() && ext.end < count);
                assert!(!buf[ext.clone()].contains(&b'/'));
            }
            Matcher::Magic {
                offset,
                magic,
                mask,
            } => {
                assert!(!magic.is_empty() && magic.end <= count);
                assert!(offset + magic.len() <= BINPRM_BUF_SIZE);
                if let Some(mask) = mask {
                    assert_eq!(mask.len(), magic.len());
                    assert!(mask.end <= count);
                }
            }
            Matcher::Bpf => {
                accepted_bpf += 1;
                assert_eq!(reg.flags, Flags::default());
            }
        }
        assert!(!(reg.flags.transparent && reg.flags.preserve_argv0));
        if reg.flags.loader {
            let with_loader = Flags {
                loader: true,
                open_file: reg.flags.open_file,
                ..Flags::default()
            };
            assert_eq!(reg.flags, with_loader);
        }
        let mut out = Text(Vec::new());
        write_entry(&mut out, &buf, &reg, false, []).unwrap();
        assert!(out.0.len() <= crate::format::MAX_ENTRY_TEXT);
        assert!(check_round_trip(&input, 0xa5));
    }
    assert!(
        accepted_bpf > 2_000,
        "only {accepted_bpf} random B inputs were accepted"
    );
    assert!(
        accepted > 20_000,
        "only {accepted} random inputs were accepted"
    );
}

/// The longest entry texts: every byte of the register string spent on the
/// interpreter, or on magic and mask (two hex digits of text for four bytes).
#[test]
fn largest_entry_text_fits_a_page() {
    let fill = |head: &str, tail: &str| {
        let interp: String = "i".repeat(MAX_REGISTER_LENGTH - head.len() - tail.len() - 1);
        std::format!("{head}/{interp}{tail}")
    };
    let magic: String = "\\xff".repeat(230);
    for input in [
        fill(":n:E::e::", ":POCF"),
        fill(&std::format!(":n:M::{magic}:{magic}:"), ":POCF"),
    ] {
        assert_eq!(input.len(), MAX_REGISTER_LENGTH);
        let text = entry_text(input.as_bytes());
        assert!(
            text.len() <= crate::format::MAX_ENTRY_TEXT,
            "{}",
            text.len()
        );
    }
}

/// Newer upstream (Linux 7.x): `C` lends a set-id binary's credentials to the
/// interpreter, so without `F` the interpreter must not depend on the exec'ing
/// task's working directory. The 6.12 C module accepts these.
#[test]
fn credentials_without_open_file_need_an_absolute_interpreter() {
    for rejected in [
        &b":n:E::e::i:C"[..],
        b":n:E::e::./i:C",
        b":n:M::ab::i:PC\n",
        b":n:E::e::i:OC",
    ] {
        assert_eq!(parse(rejected).err(), Some(Invalid), "{rejected:?}");
    }
    for accepted in [
        &b":n:E::e::/i:C"[..],
        b":n:E::e::i:CF",
        b":n:E::e::i:FC",
        b":n:E::e::i:O",
        b":n:E::e::i:",
    ] {
        assert!(parse(accepted).is_ok(), "{accepted:?}");
    }
}

/// Written back, accepted strings parse to the same entry, whatever the
/// delimiter: with `\\` no escape can be written, with `x` or a hex digit the
/// escapes still read as escapes, NUL and delimiter bytes in the magic are escaped.
#[test]
fn register_strings_round_trip() {
    for input in [
        &b":qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:FPC\n"[..],
        b"\\n\\E\\\\e\\\\/i\\",
        b"\\n\\M\\3\\ab\\\\/i\\PO",
        b"xnxMx1x\\x78\\x00ax\\x0f\\xff\\x01x/ix",
        b"anaMaa\\x61\\x5ca\\x61\\x61a/ia",
        b":n:M:+7:\\x3a\\x5c\\x00::/i:\n",
        b":n:M:0:\\\\z::/i:",
        b":n:E:ignored:.e:ignored:/i:",
        b"|a:b|M|255|\\xff||/i:x|F",
        b"\nn\nE\n\ne\n\n/i\n\n",
        // The shortest `B` strings: the writer adds the newline to reach the
        // shortest register length.
        b":n:B::::h:\n",
        b"\nn\nB\n\n\n\nh\n\n",
        b":qemu:B::::my_handler:DD",
        b"BnBBBBBBhandlerBD",
        b":n:E::e::/i:TDO",
        b":n:M::ab::i:LFD\n",
        b":n:E::e::i:CFT",
    ] {
        assert!(check_round_trip(input, 0), "{:?}", std::string::String::from_utf8_lossy(input));
    }
}

fn flags_of(input: &[u8]) -> Flags {
    parse(input)
        .unwrap_or_else(|_| panic!("{:?}", String::from_utf8_lossy(input)))
        .1
        .flags
}

/// No flag letter may be the delimiter, or the flag scan would run on into the
/// padding; any other byte may, even the type letter.
#[test]
fn flag_letters_are_no_delimiters() {
    for del in *b"POCFTLD" {
        let input: Vec<u8> = b":n:E::ext::/bin/sh:"
            .iter()
            .map(|&b| if b == b':' { del } else { b })
            .collect();
        assert_eq!(parse(&input), Err(Invalid), "{}", char::from(del));
    }
    for accepted in [
        &b"XnXEXXextXX/bin/shX"[..],
        b"BnnBBBBBBhandlerB",
        b"EnEEEEextEE/iE",
    ] {
        assert!(
            parse(accepted).is_ok(),
            "{:?}",
            String::from_utf8_lossy(accepted)
        );
    }
}

#[test]
fn bpf_entry() {
    let (buf, reg) = parse(b":qemu:B::::my_handler:").unwrap();
    assert_eq!(&buf[reg.name.clone()], b"qemu");
    assert_eq!(reg.matcher, Matcher::Bpf);
    assert_eq!(&buf[reg.interpreter.clone()], b"my_handler");
    assert_eq!(buf[reg.interpreter.end], 0);
    assert_eq!(reg.flags, Flags::default());
    assert!(!reg.disabled);
    // `D` is the one flag a `B` entry may have; a handler name is no path.
    for disabled in [
        &b":qemu:B::::my_handler:D"[..],
        b":n:B::::h:DD\n",
        b"|n|B||||h|D",
    ] {
        let (_, reg) = parse(disabled).unwrap();
        assert_eq!(reg.matcher, Matcher::Bpf);
        assert_eq!(reg.flags, Flags::default());
        assert!(reg.disabled, "{:?}", String::from_utf8_lossy(disabled));
    }
    let header = [0u8; BINPRM_BUF_SIZE];
    let candidate = Candidate {
        header: &header,
        path: b"/x",
    };
    assert!(!matches(&reg.matcher, &buf, &candidate));
}

#[test]
fn rejected_bpf_entries() {
    assert_all_rejected(&[
        b":n:B:0:::h:",     // offset
        b":n:B::\\x7f::h:", // magic
        b":n:B:::\\xff:h:", // mask
        b":n:B:::h:",       // a field short
        b":name:B:::::",    // empty handler name
        b":n:B::::h",       // no delimiter after the handler
        b":n:B::::h:X",     // unknown flag
        b":n:BB::::h:",     // type is one letter
        b":n:B::::h:",      // ten bytes: shorter than any register string
    ]);
    for flags in ["P", "O", "C", "F", "T", "L", "DP", "PD", "FD", "DDO"] {
        let input = std::format!(":qemu:B::::my_handler:{flags}");
        assert_eq!(parse(input.as_bytes()), Err(Invalid), "{flags}");
    }
}

#[test]
fn disabled_static_entries() {
    let (_, reg) = parse(b":n:E::e::/i:DPD\n").unwrap();
    assert!(reg.disabled);
    assert_eq!(
        reg.flags,
        Flags {
            preserve_argv0: true,
            ..Flags::default()
        }
    );
    // `D` never shows: the first line tells whether the entry is enabled.
    assert_eq!(
        entry_text_with(b":n:E::e::/i:DPD", false, &[]),
        "disabled\ninterpreter /i\nflags: P\nextension .e\n"
    );
}

#[test]
fn transparent_implies_open_binary_and_excludes_preserve_argv0() {
    let transparent = Flags {
        transparent: true,
        open_binary: true,
        ..Flags::default()
    };
    assert_eq!(flags_of(b":n:E::e::/i:T"), transparent);
    assert_eq!(flags_of(b":n:E::e::i:TO\n"), transparent);
    assert!(flags_of(b":n:E::e::/i:TC").credentials);
    assert!(flags_of(b":n:E::e::i:TF").open_file);
    assert_all_rejected(&[b":n:E::e::/i:TP", b":n:E::e::/i:PT", b":n:M::ab::/i:TFP\n"]);
}

#[test]
fn loader_excludes_argv_and_binary_flags() {
    let loader = Flags {
        loader: true,
        ..Flags::default()
    };
    assert_eq!(flags_of(b":n:E::e::/i:L"), loader);
    assert_eq!(flags_of(b":n:M::ab::/i:LL\n"), loader);
    assert!(flags_of(b":n:E::e::/i:LF").open_file);
    assert!(parse(b":n:E::e::/i:LD").unwrap().1.disabled);
    for other in ["T", "P", "C", "O", "TF", "CF", "FO", "TD"] {
        for input in [
            std::format!(":n:E::e::/i:L{other}"),
            std::format!(":n:E::e::/i:{other}L"),
        ] {
            assert_eq!(parse(input.as_bytes()), Err(Invalid), "{input}");
        }
    }
}

/// `L` loads the binary with an interpreter opened at exec time, like `C`, so
/// without `F` the interpreter must not depend on the working directory.
#[test]
fn loader_without_open_file_needs_an_absolute_interpreter() {
    assert_all_rejected(&[
        b":n:E::e::i:L",
        b":n:E::e::./i:L",
        b":n:M::ab::i:LD\n",
        b":n:E::e::i:C",
    ]);
    for accepted in [&b":n:E::e::i:LF"[..], b":n:E::e::i:FL", b":n:E::e::/i:L"] {
        assert!(parse(accepted).is_ok(), "{accepted:?}");
    }
}

#[test]
fn flag_letters_print_in_upstream_order() {
    let all = Flags {
        preserve_argv0: true,
        open_binary: true,
        credentials: true,
        open_file: true,
        transparent: true,
        loader: true,
    };
    assert_eq!(all.letters().collect::<Vec<_>>(), b"POCFTL");
    assert_eq!(
        entry_text(b":n:M:1:\\x7f::/i:TO"),
        "enabled\ninterpreter /i\nflags: OT\noffset 1\nmagic 7f\n"
    );
    assert_eq!(
        entry_text(b":n:M::ab::i:LF"),
        "enabled\ninterpreter i\nflags: FL\noffset 0\nmagic 6162\n"
    );
    // `P` and `L` never meet: the flags line can't read "PL".
    assert_eq!(parse(b":n:M::ab::/i:PL"), Err(Invalid));
}

#[test]
fn bpf_entry_text() {
    assert_eq!(
        entry_text_with(b":qemu:B::::my_handler:D", false, &[]),
        "disabled\nbpf my_handler\nflags: \n"
    );
    assert_eq!(
        entry_text_with(
            b":qemu:B::::my_handler:D",
            true,
            &[
                ("aarch64", "/usr/bin/qemu-aarch64"),
                ("arm", "/usr/bin/qemu-arm")
            ]
        ),
        "enabled\nbpf my_handler\n\
         bpf-interpreter aarch64 /usr/bin/qemu-aarch64\n\
         bpf-interpreter arm /usr/bin/qemu-arm\n\
         flags: \n"
    );
    // Static entries bind nothing.
    assert_eq!(
        entry_text_with(b":n:E::e::/i:", true, &[("a", "/x")]),
        "enabled\ninterpreter /i\nflags: \nextension .e\n"
    );
}

/// A page holds no `B` entry with all its bindings at their longest: the text
/// is bounded by [`MAX_ENTRY_TEXT`] plus [`MAX_BINDING_TEXT`] per binding.
///
/// [`MAX_ENTRY_TEXT`]: crate::format::MAX_ENTRY_TEXT
/// [`MAX_BINDING_TEXT`]: crate::format::MAX_BINDING_TEXT
#[test]
fn largest_bpf_entry_text() {
    use crate::format::{binding_text_len, MAX_BINDING_TEXT, MAX_ENTRY_TEXT};
    let handler: String = "h".repeat(MAX_REGISTER_LENGTH - ":n:B::::".len() - ":D".len());
    let input = std::format!(":n:B::::{handler}:D");
    assert_eq!(input.len(), MAX_REGISTER_LENGTH);
    assert!(entry_text(input.as_bytes()).len() <= MAX_ENTRY_TEXT);

    let name: String = "n".repeat(BINDING_NAME_MAX);
    let path = std::format!("/{}", "p".repeat(MAX_ENTRY_WRITE - 3 - BINDING_NAME_MAX));
    let write = std::format!("+{name} {path}");
    assert_eq!(write.len(), MAX_ENTRY_WRITE);
    assert!(check_binding(write.as_bytes()));
    assert_eq!(
        binding_text_len(name.as_bytes(), path.as_bytes()),
        MAX_BINDING_TEXT
    );
    let bindings: Vec<(&str, &str)> =
        std::iter::repeat_n((name.as_str(), path.as_str()), MAX_BINDINGS).collect();
    let text = entry_text_with(input.as_bytes(), true, &bindings);
    assert!(text.len() > MAX_ENTRY_TEXT);
    assert!(text.len() <= MAX_ENTRY_TEXT + MAX_BINDINGS * MAX_BINDING_TEXT);
}

#[test]
fn binding_limits() {
    assert_eq!(BINDING_NAME_MAX, 32);
    assert_eq!(MAX_BINDINGS, 100);
    assert_eq!(MAX_ENTRY_WRITE, 4131);
}

fn binding(input: &[u8]) -> Result<(&[u8], &[u8]), Invalid> {
    let binding = parse_binding(input)?;
    assert!(check_binding(input));
    Ok((&input[binding.name], &input[binding.path]))
}

#[test]
fn bindings() {
    let write = b"+aarch64 /usr/bin/qemu-aarch64";
    assert_eq!(
        parse_binding(write),
        Ok(Binding {
            name: 1..8,
            path: 9..write.len()
        })
    );
    let name_max = [b'n'; BINDING_NAME_MAX];
    let longest_name = [&b"+"[..], &name_max, b" /x"].concat();
    let accepted: &[(&[u8], &[u8], &[u8])] = &[
        (b"+arm /usr/bin/qemu-arm\n", b"arm", b"/usr/bin/qemu-arm"),
        // One newline goes, the rest is path.
        (b"+a /x\n\n", b"a", b"/x\n"),
        (b"+a /", b"a", b"/"),
        // The path runs from the first space to the end, spaces included.
        (b"+a /my dir/x y ", b"a", b"/my dir/x y "),
        (b"+x86-64.v2~! /x", b"x86-64.v2~!", b"/x"),
        (&longest_name, &name_max, b"/x"),
    ];
    for &(input, name, path) in accepted {
        assert_eq!(
            binding(input),
            Ok((name, path)),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    let long_name = [&b"+"[..], &[b'n'; BINDING_NAME_MAX + 1], b" /x"].concat();
    let rejected: &[&[u8]] = &[
        b"",
        b"+",
        b"aarch64 /usr/bin/qemu-aarch64", // no `+`
        b"+aarch64",                      // no space
        b"+aarch64/x\n",
        b"+ /x",     // empty name
        &long_name,  // 33-byte name
        b"+a\tb /x", // tab in the name
        b"+a\nb /x", // newline in the name
        b"+a\n /x",
        b"+a b /x",   // name "a", path "b /x": relative
        b"+a  /x",    // path " /x": relative
        b"+a\x7f /x", // DEL in the name
        b"+\xc3\xa9 /x",
        b"+a /x\0", // NUL anywhere
        b"+a\0 /x",
        b"+a /x\0y\n",
        b"\0+a /x",
        b"+a x", // relative path
        b"+a ./x",
        b"+a ", // empty path
        b"+a \n",
        b"+a \n/x",
        b"-1",
        b"+1",
    ];
    for &input in rejected {
        assert_eq!(
            parse_binding(input),
            Err(Invalid),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    let too_long = [&b"+a /"[..], &[b'p'; MAX_ENTRY_WRITE - 3]].concat();
    assert_eq!(too_long.len(), MAX_ENTRY_WRITE + 1);
    assert_eq!(parse_binding(&too_long), Err(Invalid));
    assert!(parse_binding(&too_long[..MAX_ENTRY_WRITE]).is_ok());
}

/// Random entry-file writes: [`parse_binding`] agrees with a plain statement of
/// its rules and never panics.
#[test]
fn random_bindings_follow_the_rules() {
    const ALPHABET: &[u8] = b"+ /\n\t\0aZ.~\x7f\xff";
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for _ in 0..100_000 {
        // Mostly well-formed: a name, a space, an absolute path, a newline.
        let mut input = std::vec![b'+'];
        for _ in 0..rng.below(BINDING_NAME_MAX + 3) {
            let byte = if rng.below(16) == 0 {
                ALPHABET[rng.below(ALPHABET.len())]
            } else {
                b"aZ.~+/"[rng.below(6)]
            };
            input.push(byte);
        }
        input.push(b' ');
        if rng.below(4) != 0 {
            input.push(b'/');
        }
        for _ in 0..rng.below(8) {
            input.push(ALPHABET[rng.below(ALPHABET.len())]);
        }
        if rng.below(2) == 0 {
            input.push(b'\n');
        }
        let expected = (|| {
            let text = input.strip_prefix(b"+")?;
            let space = text.iter().position(|&b| b == b' ')?;
            let (name, rest) = (&text[..space], &text[space + 1..]);
            let path = rest.strip_suffix(b"\n").unwrap_or(rest);
            let valid = !input.contains(&0)
                && (1..=BINDING_NAME_MAX).contains(&name.len())
                && name.iter().all(|b| (0x21..=0x7e).contains(b))
                && path.starts_with(b"/");
            valid.then_some((name, path))
        })();
        assert_eq!(binding(&input).ok(), expected, "{input:?}");
        accepted += usize::from(expected.is_some());
    }
    assert!(
        accepted > 1_000,
        "only {accepted} random writes were accepted"
    );
}

// ---- The kfunc and struct_ops argument rules of 'B' handlers ----

#[test]
fn kfunc_strings_need_a_nul_and_content() {
    use crate::bpf_rules::{c_string, Invalid};
    assert_eq!(c_string(b"abc\0"), Ok(&b"abc"[..]));
    assert_eq!(c_string(b"abc\0junk"), Ok(&b"abc"[..]));
    assert_eq!(c_string(b"abc"), Err(Invalid));
    assert_eq!(c_string(b"\0abc"), Err(Invalid));
    assert_eq!(c_string(b""), Err(Invalid));
}

#[test]
fn set_interp_paths() {
    use crate::bpf_rules::{interp_path, PathError, PATH_MAX};
    assert_eq!(interp_path(b"/bin/sh\0"), Ok(&b"/bin/sh"[..]));
    assert_eq!(interp_path(b"bin/sh\0"), Err(PathError::Invalid));
    assert_eq!(interp_path(b"/bin/sh"), Err(PathError::Invalid));
    assert_eq!(interp_path(b"\0"), Err(PathError::Invalid));
    let mut long = std::vec![b'/'; PATH_MAX - 1];
    long.push(0);
    assert_eq!(interp_path(&long).map(<[u8]>::len), Ok(PATH_MAX - 1));
    let mut too_long = std::vec![b'/'; PATH_MAX];
    too_long.push(0);
    assert_eq!(interp_path(&too_long), Err(PathError::TooLong));
    // The length is checked first, as upstream 7.3: a long relative path is
    // ENAMETOOLONG, not EINVAL.
    let mut long_relative = std::vec![b'a'; PATH_MAX];
    long_relative.push(0);
    assert_eq!(interp_path(&long_relative), Err(PathError::TooLong));
}

#[test]
fn handler_names_follow_bpf_object_names() {
    use crate::bpf_rules::object_name;
    let field = |s: &[u8]| {
        let mut f = [0u8; 16];
        f[..s.len()].copy_from_slice(s);
        f
    };
    assert_eq!(
        object_name(&field(b"my_handler.v2")),
        Ok(&b"my_handler.v2"[..])
    );
    assert!(object_name(&field(b"")).is_err());
    assert!(object_name(&field(b"a-b")).is_err());
    assert!(object_name(&field(b"a b")).is_err());
    assert!(object_name(&field(b"a/b")).is_err());
    assert!(object_name(&field(b"fifteen_chars_x")).is_ok());
    assert!(object_name(b"sixteen_chars_xx").is_err());
}

#[test]
fn set_flags_maps_to_static_flags() {
    use crate::bpf_rules::*;
    let f = invocation_flags(0).unwrap();
    assert_eq!(f, Flags::default());
    let f = invocation_flags(PRESERVE_ARGV0 | EXECFD).unwrap();
    assert!(f.preserve_argv0 && f.open_binary && !f.credentials);
    let f = invocation_flags(CREDENTIALS).unwrap();
    assert!(f.credentials && f.open_binary && !f.preserve_argv0);
    assert_eq!(invocation_flags(1 << 5), Err(FlagsError::Invalid));
    assert_eq!(invocation_flags(LOADER | EXECFD), Err(FlagsError::Invalid));
    assert_eq!(
        invocation_flags(TRANSPARENT | PRESERVE_ARGV0),
        Err(FlagsError::Invalid)
    );
    // Not supported on 6.12: EINVAL, as upstream built without them.
    assert_eq!(invocation_flags(LOADER), Err(FlagsError::Invalid));
    assert_eq!(
        invocation_flags(TRANSPARENT | EXECFD),
        Err(FlagsError::Invalid)
    );
}

mod lookup {
    use super::XorShift;
    use crate::grammar::BINPRM_BUF_SIZE;
    use crate::lookup::{Index, Probes};
    use crate::lookup_check::{
        applied, build, check, check_bytes, indexed, linear, probes, TestEntry, Walk,
    };
    use crate::matching::Candidate;
    use std::vec;
    use std::vec::Vec;

    /// Counts the index's reads of entries: the work of a lookup.
    struct Counting<'a> {
        entries: &'a [TestEntry],
        reads: core::cell::Cell<usize>,
    }

    impl<'a> Counting<'a> {
        fn new(entries: &'a [TestEntry]) -> Self {
            Self {
                entries,
                reads: core::cell::Cell::new(0),
            }
        }
    }

    impl crate::lookup::Entries for Counting<'_> {
        fn count(&self) -> usize {
            self.entries.len()
        }
        fn matcher(&self, pos: usize) -> (crate::grammar::Matcher, &[u8]) {
            self.reads.set(self.reads.get() + 1);
            crate::lookup::Entries::matcher(self.entries, pos)
        }
    }

    /// An exec that passes over many candidates (disabled entries, 'B' entries
    /// that decline) in a list of many shapes costs a search per shape once, not
    /// per candidate: the entries an exec reads stay linear in the list, as for
    /// the walk, and an unprivileged user cannot make one exec quadratic.
    #[test]
    fn many_shapes_and_many_candidates_stay_linear() {
        let n = 2000;
        let mut entries: Vec<TestEntry> = (0..n)
            .map(|i| TestEntry::magic(i % 200, &vec![0x55; 1 + i / 200], None))
            .collect();
        for i in 0..n {
            let mut e = if i % 2 == 0 {
                TestEntry::extension(b"x")
            } else {
                TestEntry::bpf(false)
            };
            e.enabled = i % 4 != 0;
            entries.push(e);
        }
        let (slots, shapes) = build(&entries);
        let counting = Counting::new(&entries);
        let h = [0; BINPRM_BUF_SIZE];
        let c = Candidate {
            header: &h,
            path: b"/a.x",
        };
        let found = Index::new(&slots, &shapes)
            .candidates(&counting, &c)
            .count();
        assert_eq!(found, n);
        // A few reads per shape (first entry, the search, its end) and per
        // extension-run search; nothing per candidate.
        let reads = counting.reads.get();
        assert!(
            reads <= 4 * (shapes.len() + 64),
            "{reads} reads for {} shapes",
            shapes.len()
        );
        check(&entries, &c);
    }

    /// A magic that ends at the header's last byte, where a probe cannot load
    /// four bytes, is told apart by its bytes all the same.
    #[test]
    fn a_probe_at_the_end_of_the_header() {
        let entries = [TestEntry::magic(254, &[1, 2], None)];
        let probes = probes(&entries);
        let (slots, shapes) = build(&entries);
        let mut h = [0; BINPRM_BUF_SIZE];
        h[254..].copy_from_slice(&[1, 2]);
        for (last, asked) in [(2, vec![0]), (3, vec![])] {
            h[255] = last;
            let c = Candidate {
                header: &h,
                path: b"/x",
            };
            let lookup = Index::new(&slots, &shapes).lookup(&entries[..], Probes::of(&probes), &c);
            assert!(lookup.is_walk());
            assert_eq!(lookup.collect::<Vec<usize>>(), asked);
            check(&entries, &c);
        }
    }

    /// Masked magics have no probe, so a walk reads them whole: a set of them
    /// (qemu's handlers: about 20 ELF headers under 5 masks) is searched, as
    /// before the walk had probes, not walked.
    #[test]
    fn masked_sets_are_searched() {
        let masks: Vec<Vec<u8>> = (0..5u8).map(|i| vec![0xff, 0xff, 0xfe, i]).collect();
        let entries: Vec<TestEntry> = (0..20u8)
            .map(|i| TestEntry::magic(0, &[0x7f, b'E', i, 0], Some(&masks[usize::from(i % 5)])))
            .collect();
        let (slots, shapes) = build(&entries);
        let probes = probes(&entries);
        let h = [0; BINPRM_BUF_SIZE];
        let c = Candidate {
            header: &h,
            path: b"/x",
        };
        assert_eq!(shapes.len(), 5 + 2);
        let lookup = Index::new(&slots, &shapes).lookup(&entries[..], Probes::of(&probes), &c);
        assert!(!lookup.is_walk());
        check(&entries, &c);
        check(&entries[..8], &c);
    }

    /// A binary no entry matches costs one read of an entry per shape (for its
    /// offset and mask): the searches compare the hashes the slots carry, so a
    /// long list's lookup does not read its entries. A list short next to its
    /// shapes is walked, over the entries' probes: a miss asks no entry.
    #[test]
    fn a_miss_reads_one_entry_per_shape() {
        let entries: Vec<TestEntry> = (0..1000)
            .map(|i| TestEntry::magic(i % 64, &[0xde, 0xad, 0xbe, 0xef, i as u8], None))
            .collect();
        let (slots, shapes) = build(&entries);
        assert_eq!(shapes.len(), 64 + 2);
        let counting = Counting::new(&entries);
        let h = [0x42; BINPRM_BUF_SIZE];
        let c = Candidate {
            header: &h,
            path: b"/x.plain",
        };
        let all_probes = probes(&entries);
        let lookup = Index::new(&slots, &shapes).lookup(&counting, Probes::of(&all_probes), &c);
        assert!(!lookup.is_walk());
        assert_eq!(lookup.count(), 0);
        let reads = counting.reads.get();
        assert!(reads <= 64, "{reads} reads for a miss in 64 shapes");
        let short = &entries[..100];
        let (slots, shapes) = build(short);
        let short_probes = probes(short);
        let lookup = Index::new(&slots, &shapes).lookup(short, Probes::of(&short_probes), &c);
        assert!(lookup.is_walk());
        assert_eq!(lookup.count(), 0);
        // The extension entries' probes too, and a binary with no extension.
        let exts: Vec<TestEntry> = (0..2)
            .map(|i| TestEntry::extension(std::format!("ext{i}").as_bytes()))
            .collect();
        let (slots, shapes) = build(&exts);
        let ext_probes = probes(&exts);
        for path in [&b"/x.plain"[..], b"/x", b"/x.ext1"] {
            let c = Candidate { header: &h, path };
            let lookup = Index::new(&slots, &shapes).lookup(&exts[..], Probes::of(&ext_probes), &c);
            assert!(lookup.is_walk());
            let asked: Vec<usize> = lookup.collect();
            assert_eq!(asked, if path == b"/x.ext1" { vec![1] } else { vec![] });
            check(&exts, &c);
        }
        check(short, &c);
        check(&entries, &c);
    }

    /// Keys whose hashes collide (FNV-1a: "declinate" and "macallums", "altarage"
    /// and "zinke") are told apart by their bytes, in the sort, the changes and
    /// the searches.
    #[test]
    fn colliding_hashes_are_told_apart() {
        let entries = [
            TestEntry::magic(0, b"declinate", None),
            TestEntry::extension(b"altarage"),
            TestEntry::magic(0, b"macallums", None),
            TestEntry::extension(b"zinke"),
            TestEntry::magic(0, b"declinate", None),
        ];
        crate::lookup_check::check_changes(&entries, 0..entries.len());
        let mut h = [0; BINPRM_BUF_SIZE];
        for (magic, path, chosen) in [
            (&b"macallums"[..], &b"/x"[..], Some(2)),
            (b"declinate", b"/x", Some(4)),
            (b"declinatf", b"/x.zinke", Some(3)),
            (b"declinatf", b"/x.altarage", Some(1)),
            (b"macallumt", b"/x.zink", None),
        ] {
            h[..9].copy_from_slice(magic);
            let c = Candidate { header: &h, path };
            let (slots, shapes) = build(&entries);
            assert_eq!(
                indexed(&entries, &Index::new(&slots, &shapes), &c).chosen,
                chosen
            );
            check(&entries, &c);
        }
    }

    /// A registration finds its place in the index with a binary search, and a
    /// removal reads no entry: neither sorts the list again.
    #[test]
    fn changes_read_a_logarithmic_number_of_entries() {
        let n = 4096;
        let entries: Vec<TestEntry> = (0..n as u32)
            .map(|i| match i % 3 {
                0 => TestEntry::magic((i % 7) as usize, &i.to_be_bytes(), None),
                1 => TestEntry::extension(std::format!("e{i}").as_bytes()),
                _ => TestEntry::magic(0, &i.to_le_bytes(), Some(b"\xff\x0f")),
            })
            .collect();
        let (slots, shapes) = build(&entries[..n - 1]);
        let counting = Counting::new(&entries);
        let old = Index::new(&slots, &shapes);
        let change = old.plan_add(&counting).unwrap();
        let reads = counting.reads.get();
        // Two per comparison, log2(n) comparisons, the new entry's hash, and
        // the shape of the new entry and of its two neighbours.
        assert!(
            reads <= 2 * 13 + 4,
            "{reads} reads to add to {} entries",
            n - 1
        );
        assert_eq!(applied(old, change), build(&entries));
        assert!(Index::new(&slots, &shapes).plan_remove(n - 1).is_none());
        assert!(old.plan_remove(17).is_some());
    }

    fn elf_header(class: u8, machine: u8) -> [u8; BINPRM_BUF_SIZE] {
        let mut h = [0; BINPRM_BUF_SIZE];
        h[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        h[4] = class;
        h[18] = machine;
        h
    }

    fn walk(entries: &[TestEntry], header: &[u8; BINPRM_BUF_SIZE], path: &[u8]) -> Walk {
        let c = Candidate { header, path };
        check(entries, &c);
        let (slots, shapes) = build(entries);
        indexed(entries, &Index::new(&slots, &shapes), &c)
    }

    /// Random entry sets and binaries: the index must find what the walk finds,
    /// asking the same 'B' entries in the same order.
    #[test]
    fn random_sets_match_the_walk() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let data: Vec<u8> = (0..rng.below(600)).map(|_| rng.next() as u8).collect();
            check_bytes(&data);
        }
    }

    #[test]
    fn newest_match_wins_across_shapes() {
        let mask = b"\xff\xff\xff\xff\xff\xfe";
        let entries = [
            TestEntry::magic(0, b"\x7fELF\x02\x01", Some(mask)),
            TestEntry::magic(0, b"\x7fELF", None),
            TestEntry::magic(18, b"\x28", None),
            TestEntry::extension(b"py"),
            TestEntry::magic(0, b"\x7fELF\x02\x00", Some(mask)),
        ];
        let h = elf_header(2, 0x28);
        // The newest, masked, then the one at offset 18 once it is disabled.
        assert_eq!(walk(&entries, &h, b"/x").chosen, Some(4));
        let [a, b, c, d, e] = entries;
        let entries = [a, b, c, d, e.disabled()];
        assert_eq!(walk(&entries, &h, b"/x").chosen, Some(2));
        assert_eq!(walk(&entries, &h, b"/x.py").chosen, Some(3));
        assert_eq!(walk(&entries, &[0; BINPRM_BUF_SIZE], b"/x").chosen, None);
    }

    #[test]
    fn bpf_entries_are_asked_in_list_order() {
        let entries = [
            TestEntry::bpf(true),
            TestEntry::magic(0, b"\x7fELF", None),
            TestEntry::bpf(false),
            TestEntry::extension(b"sh"),
            TestEntry::bpf(false).disabled(),
            TestEntry::bpf(false),
        ];
        let h = elf_header(2, 0);
        let w = walk(&entries, &h, b"/x");
        assert_eq!((w.asked, w.chosen), (vec![5, 2], Some(1)));
        let w = walk(&entries, &h, b"/x.sh");
        assert_eq!((w.asked, w.chosen), (vec![5], Some(3)));
        let w = walk(&entries, &[0; BINPRM_BUF_SIZE], b"/x");
        let c = Candidate {
            header: &[0; BINPRM_BUF_SIZE],
            path: b"/x",
        };
        assert_eq!(w, linear(&entries, &c));
        assert_eq!((w.asked, w.chosen), (vec![5, 2, 0], Some(0)));
    }

    #[test]
    fn empty_and_bpf_only_lists() {
        let h = [0; BINPRM_BUF_SIZE];
        assert_eq!(walk(&[], &h, b"/x.a").chosen, None);
        let entries = [TestEntry::bpf(false), TestEntry::bpf(false)];
        assert_eq!(walk(&entries, &h, b"/x").asked, vec![1, 0]);
    }

    /// A binary no entry matches yields no candidate, and a hit only its own.
    #[test]
    fn a_miss_yields_no_candidate() {
        let entries: Vec<TestEntry> = (0..1000u32)
            .map(|i| match i % 2 {
                0 => TestEntry::magic(0, &i.to_be_bytes(), None),
                _ => TestEntry::extension(std::format!("e{i}").as_bytes()),
            })
            .collect();
        let (slots, shapes) = build(&entries);
        assert_eq!(shapes.len(), 3);
        let index = Index::new(&slots, &shapes);
        let h = [0xee; BINPRM_BUF_SIZE];
        let c = Candidate {
            header: &h,
            path: b"/x.e",
        };
        assert_eq!(index.candidates(&entries[..], &c).count(), 0);
        let h = [0; BINPRM_BUF_SIZE];
        let c = Candidate {
            header: &h,
            path: b"/x.e999",
        };
        let found: Vec<usize> = index.candidates(&entries[..], &c).collect();
        assert_eq!(found, vec![999, 0]);
    }
}
