/*
 * The expected strings of test/unit/vsprintf.test.ts: C's printf on a table of ordinary
 * conversions, printed as JSON ([{ "fmt", "args", "out" }]) with the arguments as the test passes
 * them to vsprintf (a 64-bit value beyond 2^53 as { "bigint": "..." }).
 *
 * Regenerate (x86-64 Linux, glibc: int 32-bit, long and long long 64-bit):
 *   gcc -std=c11 -Wall -Wno-format-nonliteral -Wno-format-security -o /tmp/printf-table test/unit/printf-table.c
 *   /tmp/printf-table > test/unit/printf-table.json
 */
#include <stdio.h>
#include <string.h>

static int first = 1;

static void json_string(const char *s) {
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void emit(const char *fmt, const char *args, const char *out) {
	printf("%s\n  { \"fmt\": ", first ? "[" : ",");
	first = 0;
	json_string(fmt);
	printf(", \"args\": %s, \"out\": ", args);
	json_string(out);
	printf(" }");
}

/* A 64-bit integer argument as JSON: a number while exact in a double, else a bigint string. */
static void json_ll(char *buf, size_t n, long long v) {
	if (v > (1LL << 53) || v < -(1LL << 53))
		snprintf(buf, n, "{ \"bigint\": \"%lld\" }", v);
	else
		snprintf(buf, n, "%lld", v);
}

static char out[512], args[256], arg[96];

static void c_int(const char *fmt, int v) {
	snprintf(out, sizeof out, fmt, v);
	snprintf(args, sizeof args, "[%d]", v);
	emit(fmt, args, out);
}

static void c_ll(const char *fmt, long long v) {
	snprintf(out, sizeof out, fmt, v);
	json_ll(arg, sizeof arg, v);
	snprintf(args, sizeof args, "[%s]", arg);
	emit(fmt, args, out);
}

static void c_ull(const char *fmt, unsigned long long v) {
	snprintf(out, sizeof out, fmt, v);
	if (v > (1ULL << 53))
		snprintf(args, sizeof args, "[{ \"bigint\": \"%llu\" }]", v);
	else
		snprintf(args, sizeof args, "[%llu]", v);
	emit(fmt, args, out);
}

static void c_double(const char *fmt, double v) {
	snprintf(out, sizeof out, fmt, v);
	snprintf(args, sizeof args, "[%.17g]", v);
	emit(fmt, args, out);
}

static void c_str(const char *fmt, const char *v) {
	snprintf(out, sizeof out, fmt, v);
	snprintf(args, sizeof args, "[\"%s\"]", v); /* the table's strings need no escaping */
	emit(fmt, args, out);
}

static void c_char(const char *fmt, int v) {
	snprintf(out, sizeof out, fmt, v);
	snprintf(args, sizeof args, "[%d]", v); /* vsprintf's %c takes a character code */
	emit(fmt, args, out);
}

static void c_int_int(const char *fmt, int w, int v) {
	snprintf(out, sizeof out, fmt, w, v);
	snprintf(args, sizeof args, "[%d, %d]", w, v);
	emit(fmt, args, out);
}

static void c_int_str(const char *fmt, int p, const char *v) {
	snprintf(out, sizeof out, fmt, p, v);
	snprintf(args, sizeof args, "[%d, \"%s\"]", p, v);
	emit(fmt, args, out);
}

static void c_mixed(void) {
	const char *fmt = "%s: %d of %u (%5.1f%%) at 0x%08x [%c]";
	snprintf(out, sizeof out, fmt, "worker/3", -7, 12u, 58.333, 0xbeefu, 'k');
	emit(fmt, "[\"worker/3\", -7, 12, 58.333, 48879, 107]", out);
}

static void c_pointer(const char *fmt, unsigned long v) {
	snprintf(out, sizeof out, fmt, (void *)v);
	json_ll(arg, sizeof arg, (long long)v);
	snprintf(args, sizeof args, "[%s]", arg);
	emit(fmt, args, out);
}

int main(void) {
	/* signed decimal */
	c_int("%d", 0);
	c_int("%d", 42);
	c_int("%d", -42);
	c_int("%i", 123456789);
	c_int("%d", 2147483647);
	c_int("%d", -2147483647 - 1);
	c_int("[%5d]", 42);
	c_int("[%-5d]", 42);
	c_int("[%05d]", 42);
	c_int("[%05d]", -42);
	c_int("[%+d]", 42);
	c_int("[%+d]", -42);
	c_int("[% d]", 42);
	c_int("[% d]", -42);
	c_int("[%.3d]", 7);
	c_int("[%6.3d]", 7);
	c_int("[%-6.3d]", -7);
	c_int("[%.0d]", 0);
	c_int("[%2d]", 12345);
	c_int("%hd", 70000);
	c_int("%hhd", 300);
	/* unsigned, hex, octal */
	c_int("%u", 42);
	c_int("%u", -1);
	c_int("%x", 255);
	c_int("%X", 255);
	c_int("%x", -1);
	c_int("%#x", 255);
	c_int("%#X", 255);
	c_int("%#x", 0);
	c_int("[%08x]", 0xbeef);
	c_int("[%#010x]", 0xbeef);
	c_int("[%-8x]", 0xbeef);
	c_int("%o", 8);
	c_int("%#o", 8);
	c_int("%o", -1);
	c_int("%hx", 0x12345);
	c_int("%hhu", 257);
	/* long and long long (64-bit) */
	c_ll("%ld", 1234567890123LL);
	c_ll("%ld", -1234567890123LL);
	c_ll("%lld", 9007199254740993LL);
	c_ll("%lu", -1LL);
	c_ll("%lx", -1LL);
	c_ull("%llx", 0xdeadbeefcafebabeULL);
	c_ull("%llX", 0xdeadbeefcafebabeULL);
	c_ull("%llu", 18446744073709551615ULL);
	c_ll("%zd", -5);
	c_ll("%zu", 4096);
	/* characters and strings */
	c_char("%c", 'A');
	c_char("[%3c]", 'z');
	c_char("[%-3c]", 'z');
	c_str("%s", "hello");
	c_str("[%10s]", "hello");
	c_str("[%-10s]", "hello");
	c_str("[%.3s]", "hello");
	c_str("[%8.2s]", "hello");
	c_str("[%-8.2s]", "hello");
	c_str("[%.0s]", "hello");
	c_str("[%s]", "");
	c_str("[%2s]", "hello");
	c_int_int("[%*d]", 6, 42);
	c_int_int("[%-*d]", 6, 42);
	c_int_int("[%*d]", -6, 42);
	c_int_str("[%.*s]", 2, "hello");
	/* floating point */
	c_double("%f", 3.14159265);
	c_double("%f", -0.5);
	c_double("%.2f", 2.675);
	c_double("%.3f", 1.0005);
	c_double("[%10.4f]", 3.14159265);
	c_double("[%-10.2f]", 3.14159265);
	c_double("[%+.1f]", 2.25);
	c_double("[% .1f]", 2.25);
	c_double("%.0f", 2.5);
	c_double("%.0f", 3.5);
	c_double("%f", 1e10);
	c_double("[%010.3f]", 3.14159);
	c_double("[%010.3f]", -3.14159);
	c_double("%e", 12345.678);
	c_double("%.2e", 0.000123);
	c_double("%E", 12345.678);
	c_double("%e", 0.0);
	c_double("%g", 0.5);
	c_double("%g", 100000.0);
	c_double("%g", 1234567.0);
	c_double("%g", 0.0001);
	c_double("%g", 0.00001234);
	c_double("%.3g", 3.14159);
	c_double("%G", 1e-10);
	c_double("%g", 2.0);
	/* a literal percent, and several conversions together */
	c_int("100%% of %d", 3);
	c_mixed();
	/* %p: Linux hashes plain %p; kmodel prints 0x and at least 8 hex digits */
	c_pointer("%p", 0x1234);
	printf("\n]\n");
	return 0;
}
