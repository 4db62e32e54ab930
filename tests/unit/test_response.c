/* test_response.c - unit tests of lib/response.c (Check). */
#include "response.h"
#include "unit.h"

START_TEST(response_head_and_body)
{
	struct response resp;
	char *text, *big_value;
	size_t len;

	response_init(&resp);
	response_json(&resp, 201, json_pack("{s:s, s:i}", "id", "ks_1", "n", 7));
	response_header(&resp, "Location", "/v1/x/ks_1");
	response_header(&resp, "X-Bad", "a\r\nInjected: 1");
	text = response_serialise(&resp, "req_1", 0, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_str_eq(text,
	    "Status: 201 Created\r\n"
	    "Content-Length: 19\r\n"
	    "X-Request-Id: req_1\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Type: application/json\r\n"
	    "Location: /v1/x/ks_1\r\n"
	    "\r\n"
	    "{\"id\":\"ks_1\",\"n\":7}");
	free(text);
	/* HEAD: the length of the body, no body */
	text = response_serialise(&resp, "req_2", 1, &len);
	ck_assert_ptr_nonnull(strstr(text, "Content-Length: 19\r\n"));
	ck_assert_str_eq(text + len - 4, "\r\n\r\n");
	free(text);
	response_reset(&resp);

	/* a body bigger than the stack buffer is dumped whole */
	big_value = malloc(20001);
	memset(big_value, 'v', 20000);
	big_value[20000] = '\0';
	response_json(&resp, 200, json_pack("{s:s}", "v", big_value));
	text = response_serialise(&resp, "req_3", 0, &len);
	ck_assert_ptr_nonnull(strstr(text, "Content-Length: 20008\r\n"));
	ck_assert_uint_eq(strlen(strstr(text, "\r\n\r\n") + 4), 20008);
	free(text);
	free(big_value);
	response_reset(&resp);

	/* 204: no body, no type */
	resp.status = 204;
	text = response_serialise(&resp, "req_4", 0, &len);
	ck_assert_ptr_nonnull(strstr(text, "Status: 204 No Content\r\nContent-Length: 0\r\n"));
	ck_assert_ptr_null(strstr(text, "\nContent-Type:"));
	free(text);
}
END_TEST

UNIT_MAIN("response", 0, response_head_and_body)
