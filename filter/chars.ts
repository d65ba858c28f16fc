// The bytes JSON is built from, by name.
export const LBRACE: u8 = 0x7b; // {
export const RBRACE: u8 = 0x7d; // }
export const LBRACKET: u8 = 0x5b; // [
export const RBRACKET: u8 = 0x5d; // ]
export const QUOTE: u8 = 0x22; // "
export const BACKSLASH: u8 = 0x5c; // \
export const COLON: u8 = 0x3a; // :
export const COMMA: u8 = 0x2c; // ,
export const MINUS: u8 = 0x2d; // -
export const PLUS: u8 = 0x2b; // +
export const DOT: u8 = 0x2e; // .
export const SLASH: u8 = 0x2f; // /
export const ZERO: u8 = 0x30; // 0
export const NINE: u8 = 0x39; // 9
export const SPACE: u8 = 0x20;
export const TAB: u8 = 0x09;
export const LF: u8 = 0x0a;
export const CR: u8 = 0x0d;
/** `\"` read as a little-endian u16: a string delimiter of the escaped domain (JSON inside a JSON string). */
export const ESC_QUOTE: u16 = 0x225c;
