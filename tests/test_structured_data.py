import json
import re

from django.test import SimpleTestCase

from monographs.structured_data import json_ld_script

SCRIPT_RE = re.compile(r'^<script type="application/ld\+json">(.*)</script>$', re.S)


class JsonLdScriptTests(SimpleTestCase):
    def script_text(self, data):
        match = SCRIPT_RE.match(json_ld_script(data))
        self.assertIsNotNone(match)
        return match.group(1)

    def test_nothing_in_the_data_can_close_or_bend_the_script(self):
        data = {"name": "</script><script>alert(1)</script> <!-- & -->"}
        text = self.script_text(data)
        self.assertNotIn("<", text)
        self.assertNotIn(">", text)
        self.assertNotIn("&", text)
        self.assertEqual(json.loads(text), data)

    def test_non_ascii_text_and_control_characters_read_back(self):
        data = {"name": "Magnésium – 镁\u2028\x07", "list": [1, 2.5, None, True]}
        self.assertEqual(json.loads(self.script_text(data)), data)
