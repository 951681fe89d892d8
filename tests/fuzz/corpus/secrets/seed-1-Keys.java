// Encoded credentials (planted test values, never valid).
class Keys {
    static final char[] STRIPE = {'s', 'k', '_', 'l', 'i', 'v', 'e', '_', 'g', 'o', 'E', 'm', 'v', 'n', 'E', 'N', '5', 'N', '1', 'a', 'E', '6', 'P', 'w', 'Z', 'P', 'f', '1', 'Q', 'h', '6', 'y'};
    static final char[] VOWELS = {'a', 'e', 'i', 'o', 'u'};

    static String stripe() {
        return new String(STRIPE);
    }
}
