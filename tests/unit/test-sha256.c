/* SHA-256 against the FIPS 180-4 examples (NIST CSRC "SHA256.pdf",
 * "SHA2_Additional.pdf"), against lengths around the padding boundary (digests
 * from Python's hashlib), and fed in pieces of every size. TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tg-sha256.h"

static void same(const char *what, const char *got, const char *want)
{
	ok(strcmp(got, want) == 0, "%s", what);
	if (strcmp(got, want) != 0) {
		tap_diag("got  %s", got);
		tap_diag("want %s", want);
	}
}

static void check(const char *what, const void *data, size_t len, const char *want)
{
	char got[TG_SHA256_HEX];

	tg_sha256_hex(data, len, got);
	same(what, got, want);
}

static const struct {
	size_t n;
	const char *hex;
} as[] = {
	/* 'a' repeated N times: 55 is the longest message padded in one block. */
	{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
	{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
	{ 57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6" },
	{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
	{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
	{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
	{ 128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
};

int main(void)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
				   "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	static const char million_a[] =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	static const char bytes768[] =
		"f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363";
	char got[TG_SHA256_HEX], what[96];
	unsigned char data[768];

	printf("TAP version 13\n");

	check("FIPS 180-4: empty message", "", 0,
	      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("FIPS 180-4: \"abc\"", "abc", 3,
	      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("FIPS 180-4: 448-bit message", m448, strlen(m448),
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check("FIPS 180-4: 896-bit message", m896, strlen(m896),
	      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

	/* One million 'a', in one call and in uneven pieces through one context. */
	char *a = malloc(1000000);
	if (!a) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	memset(a, 'a', 1000000);
	check("FIPS 180-4: one million 'a' in one update", a, 1000000, million_a);
	struct tg_sha256 c;
	tg_sha256_init(&c);
	for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 7 % 1000 + 1)
		tg_sha256_update(&c, a + off, off + step > 1000000 ? 1000000 - off : step);
	tg_sha256_final_hex(&c, got);
	same("one million 'a' in uneven pieces", got, million_a);

	for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++) {
		snprintf(what, sizeof(what), "%zu times 'a' (padding boundary)", as[i].n);
		check(what, a, as[i].n, as[i].hex);
	}
	free(a);

	/* Every split of a 768-byte message into two updates gives the same digest. */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	check("bytes 0..255 three times", data, sizeof(data), bytes768);
	size_t bad = 0;
	for (size_t cut = 0; cut <= sizeof(data); cut++) {
		tg_sha256_init(&c);
		tg_sha256_update(&c, data, cut);
		tg_sha256_update(&c, data + cut, sizeof(data) - cut);
		tg_sha256_final_hex(&c, got);
		if (strcmp(got, bytes768) != 0 && bad++ == 0)
			tap_diag("split at %zu gives %s", cut, got);
	}
	ok(bad == 0, "every two-piece split of the 768-byte message");

	/* The binary digest and the hex digest agree. */
	uint8_t bin[TG_SHA256_LEN];
	char hex[TG_SHA256_HEX];
	tg_sha256_init(&c);
	tg_sha256_update(&c, "abc", 3);
	tg_sha256_final(&c, bin);
	for (int i = 0; i < TG_SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", bin[i]);
	check("binary digest of \"abc\" matches its hex", "abc", 3, hex);

	return tap_done();
}
