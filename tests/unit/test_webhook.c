/* test_webhook.c - unit tests of lib/webhook.c (Check). */
#include "notifier.h"
#include "unit.h"

/* The Standard Webhooks specification's own example: secret, id,
 * timestamp and body give this signature; two keys give two. */
START_TEST(webhook_signature_matches_the_spec)
{
	unsigned char keys[2][24];
	char sig[256];
	size_t len;

	ck_assert_int_eq(sodium_base642bin(keys[0], 24, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    32, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(len, 24);
	notifier_sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232314}", (const unsigned char (*)[24])keys, 1, sig,
	    sizeof(sig));
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	memcpy(keys[1], keys[0], 24);
	notifier_sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232314}", (const unsigned char (*)[24])keys, 2, sig,
	    sizeof(sig));
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
END_TEST

UNIT_MAIN("webhook", 0, webhook_signature_matches_the_spec)
