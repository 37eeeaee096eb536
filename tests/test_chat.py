"""The chat: the real prompt_toolkit session driven through a pipe, and the pure formatting."""

import asyncio
import io
import os
import re
import stat

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.data_structures import Size
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output

from chatbot import Answer, Bot, Source, Thresholds, chat, chatview, replies
from chatbot import conversation as talk_state
from chatbot.safe import inert

CTRL_C, CTRL_D = "\x03", "\x04"
FAQ = "id,question,answer\ngarbage,燃えるゴミは何曜日に出せますか,月曜と木曜です\npension,年金の手続きはどこでしますか,市役所の窓口です\n"


class Terminal(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self):
        return True


def talk(bot, keys: str, *, stdout=None, output=None, history_path=None, **options) -> str:
    """Type ``keys`` into a real chat session; return what it printed. Keys must end the chat."""
    stdout = stdout if stdout is not None else io.StringIO()
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        code = chat.run(bot, io.StringIO(), stdout, input=pipe, output=output or DummyOutput(),
                        history_path=history_path, **options)
    assert code == 0
    return stdout.getvalue()


def replies_of(out: str) -> list[str]:
    """The printed turns: the greeting, then one block per reply (blocks end with a blank line)."""
    greeting, _, rest = out.partition("\n")
    return [greeting] + [block for block in rest.split("\n\n") if block.strip()]


def lines(block: str) -> str:
    """A wrapped reply block joined back into its text (indent and line breaks dropped)."""
    return "".join(line.strip() for line in block.split("\n"))


@pytest.fixture(scope="module")
def clarifying_bot(bot):
    """The bundled knowledge with thresholds under which every answerable question is asked back."""
    return Bot(bot.kb, thresholds=Thresholds(answer=1.01, clarify=0.0))


@pytest.fixture()
def faq(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text(FAQ, encoding="utf-8")
    return path


# ---- the session: questions, picks, follow-ups ----------------------------------------------


def test_greeting_then_answer_with_title_text_and_source(bot):
    out = talk(bot, "裏ももがつる\r" + CTRL_D)
    greeting, reply = replies_of(out)[:2]
    cramp = bot.kb.intent("cramp")
    assert greeting.startswith(talk_state.GREETING) and "Ctrl-D" in greeting
    assert reply.split("\n")[0] == f"  {cramp.title}"
    assert cramp.answer.replace("\n", "") in lines(reply)
    assert f"出典: {cramp.source.section}" in reply and cramp.source.reference in reply
    assert all(chatview.width(line) <= 79 for line in reply.split("\n"))  # DummyOutput is 80 columns


def test_clarification_is_answered_by_number_and_by_title(clarifying_bot):
    first = clarifying_bot.answer("裏ももがつる")
    assert first.status == "clarify"
    one, two = (clarifying_bot.kb.intent(c.intent) for c in first.candidates[:2])
    out = talk(clarifying_bot, f"裏ももがつる\r2\r裏ももがつる\r{one.title}\r" + CTRL_D)
    asked, by_number, asked_again, by_title = replies_of(out)[1:5]
    assert f"1. {one.title}" in asked and f"2. {two.title}" in asked and "番号(1〜2)" in asked
    assert by_number.split("\n")[0] == f"  {two.title}" and two.answer.replace("\n", "") in lines(by_number)
    assert by_title.split("\n")[0] == f"  {one.title}" and one.answer.replace("\n", "") in lines(by_title)


def test_declined_question_offers_topics_picked_by_number(bot):
    declined = bot.answer("明日の天気は?")
    offered = talk_state.offered_intents(bot.kb, declined)
    assert declined.status == "declined" and len(offered) == 3
    assert [i.title for i in offered] == numbered_titles(declined.text)  # the same numbering as the bot's
    out = talk(bot, "明日の天気は?\r2\r" + CTRL_D)
    offer, picked = replies_of(out)[1:3]
    assert "お答えできる情報がありません" in offer and f"2. {offered[1].title}" in offer
    assert picked.split("\n")[0] == f"  {offered[1].title}"
    assert offered[1].answer.replace("\n", "") in lines(picked)


def test_numbers_without_choices_and_out_of_range(bot):
    out = talk(bot, "3\r明日の天気は?\r9\r1\r" + CTRL_D)
    no_choices, offer, out_of_range, picked = replies_of(out)[1:5]
    assert "番号で選べる候補はありません" in no_choices
    assert "1〜3 の番号で選んでください" in out_of_range
    assert picked.split("\n")[0] == f"  {talk_state.offered_intents(bot.kb, bot.answer('明日の天気は?'))[0].title}"


def test_follow_up_reuses_the_topic_and_unrelated_questions_start_fresh(bot):
    conversation = talk_state.Conversation(bot)
    assert conversation.reply("ヒップリフトのやり方").answer.intent == "hip_lift"
    follow = conversation.reply("コツは?")
    assert (follow.answer.intent, follow.context) == ("hip_lift", "ヒップリフトのやり方")
    assert "10〜15回" in conversation.reply("何回やればいい?").answer.text
    unrelated = conversation.reply("株価")
    assert unrelated.answer.status == "declined" and unrelated.context is None and conversation.topic is None
    assert conversation.reply("コツは?").context is None  # the topic ended with the unrelated question


@pytest.mark.parametrize("question, intent", [("ストレッチのやり方", "stretch_methods"), ("裏ももがつる", "cramp"),
                                              ("筋肉痛がひどい", "muscle_soreness")])
def test_a_question_of_another_topic_is_answered_on_its_own(bot, question, intent):
    # with the hip lift's title in front it may read as the hip lift, but less surely than alone
    conversation = talk_state.Conversation(bot)
    conversation.reply("ヒップリフトのやり方")
    turn = conversation.reply(question)
    assert (turn.answer.intent, turn.context) == (intent, None)


def test_a_vague_question_answered_alone_as_another_topic_follows_the_current_one(bot):
    alone = bot.answer("コツは?")
    assert alone.status == "answered" and alone.intent != "hip_lift"
    conversation = talk_state.Conversation(bot)
    conversation.reply("ヒップリフトのやり方")
    turn = conversation.reply("コツは?")
    assert (turn.answer.intent, turn.context) == ("hip_lift", "ヒップリフトのやり方")
    assert turn.answer.confidence > alone.confidence


@pytest.mark.parametrize("topic", ["裏ももがつる", "ヒップリフトのやり方", "おすすめのストレッチ"])
@pytest.mark.parametrize("unrelated", ["腹筋の鍛え方", "株価", "明日の天気は?"])
def test_an_off_topic_question_is_not_read_as_a_follow_up(bot, topic, unrelated):
    conversation = talk_state.Conversation(bot)
    assert conversation.reply(topic).answer.status == "answered"
    turn = conversation.reply(unrelated)
    assert (turn.answer.status, turn.context) == ("declined", None)


def test_follow_up_in_the_session_says_it_continued_the_topic(bot):
    out = talk(bot, "ヒップリフトのやり方\rコツは?\r" + CTRL_D)
    follow = replies_of(out)[2]
    assert follow.split("\n")[0] == "  ヒップリフトのやり方  (「ヒップリフトのやり方」の続きとして)"


@pytest.mark.parametrize(
    "first, then, intent, continued",
    [
        # a vague follow-up is read in the current topic, and the reply says so
        ("ヒップリフトのやり方", "なぜ?", "hip_lift", True),
        ("ヒップリフトのやり方", "詳しく", "hip_lift", True),
        ("裏ももがつる", "どうして?", "cramp", True),
        # a question that stands on its own is answered on its own, not as a follow-up
        ("ヒップリフトのやり方", "裏ももがつる", "cramp", False),
        ("ヒップリフトのやり方", "回数は?", "reps_and_frequency", False),
        # one that brings a word the knowledge base does not know is not a follow-up either
        ("裏ももがつる", "株価は?", None, False),
    ],
)
def test_follow_ups_through_the_session(bot, first, then, intent, continued):
    out = talk(bot, f"{first}\r{then}\r" + CTRL_D)
    reply = replies_of(out)[2]
    assert ("の続きとして" in reply.split("\n")[0]) is continued
    if intent is None:
        assert reply.split("\n")[0].strip() == replies.decline(()).strip()
    else:
        assert bot.kb.intent(intent).title in reply.split("\n")[0]


def test_reset_ends_the_topic_in_the_session(bot):
    out = talk(bot, "ヒップリフトのやり方\r/reset\rなぜ?\r" + CTRL_D)
    assert "の続きとして" not in replies_of(out)[3]


# ---- commands -------------------------------------------------------------------------------


def test_help_lists_every_command(bot):
    out = talk(bot, "/help\r" + CTRL_D)
    shown = replies_of(out)[1]
    for name, _ in chatview.COMMANDS:
        assert re.search(rf"^  {re.escape(name)} ", shown, re.M), name


def test_topics_lists_sections_and_a_number_answers_it(bot):
    content = [i for i in bot.kb.intents if i.source]
    out = talk(bot, "/topics\r8\r" + CTRL_D)
    listing, picked = replies_of(out)[1:3]
    assert f"  {chatview.section_heading(content[0].source.section)}\n    1. {content[0].title}" in listing
    assert f"{len(content)}. {content[-1].title}" in listing and "あいさつ" not in listing
    assert listing.count(chatview.section_heading(content[-1].source.section)) == 1  # one heading per section
    assert picked.split("\n")[0] == f"  {content[7].title}"


@pytest.mark.parametrize("section, heading", [
    ("5. よくある質問/注意点・失敗しないためのコツ", "■ よくある質問/注意点・失敗しないためのコツ"),
    ("３．種目", "■ 種目"),
    ("用語", "■ 用語"),
])
def test_topics_headings_carry_no_number_of_their_own(section, heading):
    assert chatview.section_heading(section) == heading


def test_topics_numbers_only_the_topics(bot):
    listing = replies_of(talk(bot, "/topics\r" + CTRL_D))[1]
    numbered = [int(m) for m in re.findall(r"^\s*(\d+)[.．]", listing, re.M)]
    assert numbered == list(range(1, len(numbered) + 1)) and len(numbered) > 5


def test_help_examples_come_from_the_knowledge_base_loaded(bot, faq):
    over_faq = replies_of(talk(Bot.from_path(faq), "/help\r" + CTRL_D))[1]
    assert "燃えるゴミは何曜日に出せますか" in lines(over_faq) and "裏もも" not in over_faq
    assert "何回やればいい" not in lines(over_faq)  # the follow-up examples fit any knowledge base
    bundled = lines(replies_of(talk(bot, "/help\r" + CTRL_D))[1])
    first = talk_state.content_intents(bot.kb)[0].examples[0]
    assert f"「{first}」" in bundled


@pytest.mark.parametrize("word", ["exit", "quit", "QUIT", "Exit", "ｅｘｉｔ", "終了", "さようなら", "さようなら。", "さよなら!", "bye"])
def test_a_line_of_a_leaving_word_leaves(bot, word):
    out = talk(bot, f"{word}\r裏ももがつる\r" + CTRL_D)  # Ctrl-D ends a chat that stayed
    assert "裏ももがつるとき" not in out and len(replies_of(out)) == 1


@pytest.mark.parametrize("word", ["exit", "終了", "さようなら"])
def test_a_leaving_word_ends_piped_input_too(bot, word):
    assert piped(bot, f"{word}\n裏ももがつる\n".encode()) == ""


def test_a_leaving_word_inside_a_question_is_a_question(bot):
    assert talk_state.Conversation(bot).reply("終了後のストレッチは必要?").kind == "answer"


def test_a_paste_of_three_lines_is_three_questions(bot):
    out = talk(bot, paste("裏ももがつる\nRDLってなに?\n前にストレッチは必要?") + CTRL_D)
    for question in ("裏ももがつる", "RDLってなに?", "前にストレッチは必要?"):
        assert bot.answer(question).status == "answered"
        assert f"  {bot.kb.intent(bot.answer(question).intent).title}\n" in out, question


def test_a_paste_ending_in_exit_answers_then_leaves(bot):
    out = talk(bot, paste("裏ももがつる\nexit\nRDLってなに?") + CTRL_D)
    assert "  裏ももがつるとき\n" in out and bot.kb.intent("romanian_deadlift").title not in out


@pytest.mark.parametrize("columns", [24, 36, 60])
def test_why_lines_keep_their_indent_when_they_wrap(bot, columns):
    conversation = talk_state.Conversation(bot)
    conversation.reply("夜中に脚がつって目が覚めるのですが、ストレッチで防げますか")
    shown = chatview.plain(chatview.render(conversation.reply("/why"), columns))
    for line in shown.rstrip("\n").split("\n"):
        assert line.startswith(chatview.INDENT), line
        one_word = re.fullmatch(r"\s*[!-~]+", line)  # an id longer than the line is never cut
        assert one_word or chatview.width(line) <= columns + len(chatview.INDENT), line


def test_piped_replies_are_separated_by_a_blank_line(bot):
    out = piped(bot, "裏ももがつる\nRDLってなに?\n".encode())
    first, second = out.split("\n\n")
    assert first == replies.plain(bot.answer("裏ももがつる")) and second == replies.plain(bot.answer("RDLってなに?")) + "\n"


def test_why_explains_the_last_answer(bot):
    top = bot.rank("裏ももがつる")[0]
    out = talk(bot, "/why\r裏ももがつる\r/why\r" + CTRL_D)
    nothing_yet, _, why = replies_of(out)[1:4]
    assert "まだ答えた質問がありません" in nothing_yet
    assert "「裏ももがつる」をどう読んだか" in why
    assert f"正規化  {bot.analyzer.normalize('裏ももがつる')}" in why
    assert all(f"{w.form}({w.reading})" in why for w in bot.analyzer.analyze("裏ももがつる").words)
    assert re.search(rf"1\. {top.score:.3f} 裏ももがつるとき \[cramp\]", why)
    assert "判定    回答" in why


def test_why_after_a_follow_up_and_after_a_pick(bot):
    conversation = talk_state.Conversation(bot)
    conversation.reply("ヒップリフトのやり方")
    conversation.reply("コツは?")
    why = chatview.plain(chatview.render(conversation.reply("/why")))
    assert "前の話題「ヒップリフトのやり方」を補って「ヒップリフトのやり方 コツは?」として判定" in why
    conversation.reply("明日の天気は?")
    conversation.reply("1")
    why = chatview.plain(chatview.render(conversation.reply("/why")))
    assert "番号・題名での選択です: 1. " in why and "その選択肢を出した質問「明日の天気は?」" in why
    assert "お答えできない" in why


def test_reload_reads_the_files_again_and_a_broken_file_keeps_the_old_knowledge(faq):
    conversation = talk_state.Conversation(Bot.from_path(faq))  # no kb_path: reloads from where the bot came
    assert conversation.reply("燃えるゴミの日").answer.text == "月曜と木曜です"
    faq.write_text(FAQ.replace("月曜と木曜です", "火曜と金曜です"), encoding="utf-8")
    reloaded = conversation.reply("/reload")
    assert reloaded.kind == "notice" and "話題 2 件" in reloaded.text
    assert conversation.reply("燃えるゴミの日").answer.text == "火曜と金曜です"
    faq.write_text("id,question\ngarbage,燃えるゴミ\n", encoding="utf-8")
    broken = conversation.reply("/reload")
    assert broken.kind == "error" and "faq.csv:1" in broken.text and "前の知識のまま" in broken.text
    assert conversation.reply("燃えるゴミの日").answer.text == "火曜と金曜です"


def test_reload_in_the_session(faq):
    bot = Bot.from_path(faq)
    faq.write_text(FAQ.replace("月曜と木曜です", "火曜と金曜です"), encoding="utf-8")
    out = talk(bot, "燃えるゴミの日\r/reload\r燃えるゴミの日\r" + CTRL_D, kb_path=faq)
    before, notice, after = replies_of(out)[1:4]
    assert "月曜と木曜です" in before and "知識ファイルを読み直しました" in notice and "火曜と金曜です" in after


def test_reload_of_a_broken_file_in_the_session_keeps_answering(faq):
    bot = Bot.from_path(faq)
    faq.write_text("not a table\n", encoding="utf-8")
    out = talk(bot, "/reload\r燃えるゴミの日\r" + CTRL_D, kb_path=faq)
    error, answer = replies_of(out)[1:3]
    assert "読み直せませんでした" in error and "faq.csv:1" in error and "前の知識のまま" in error
    assert "月曜と木曜です" in answer


def test_unknown_command(bot):
    out = talk(bot, "/foo\r" + CTRL_D)
    assert "/foo というコマンドはありません" in replies_of(out)[1]


def test_reload_survives_any_failure_to_build_and_says_it_in_one_line(faq, monkeypatch):
    conversation = talk_state.Conversation(Bot.from_path(faq), kb_path=faq)
    faq.write_text(FAQ.replace("月曜と木曜です", "月曜" + "あ" * 20_000), encoding="utf-8")  # over Sudachi's input limit
    too_long = conversation.reply("/reload")
    assert too_long.kind == "error" and too_long.text.endswith("\n前の知識のまま続けます。")
    assert too_long.text.count("\n") == 1
    assert conversation.reply("燃えるゴミの日").answer.text == "月曜と木曜です"

    def broken(*args, **kwargs):
        raise MemoryError("no room for the index\nsecond line")

    monkeypatch.setattr("chatbot.bot._build", broken)  # what Bot.reload builds the new knowledge with
    failed = conversation.reply("/reload")
    assert failed.text == "読み直せませんでした: MemoryError: no room for the index\n前の知識のまま続けます。"
    assert conversation.reply("燃えるゴミの日").answer.text == "月曜と木曜です"


# ---- hostile input: nothing echoed drives the terminal, nothing undecodable stops the chat -----

SJIS = "裏ももがつる".encode("shift_jis")
INJECTIONS = ["\x1b]0;PWNED\x07", "\x1b[2J", "\x9b2J", "\u202e", "\u2066"]
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")


def piped(bot, data: bytes) -> str:
    stdout = io.StringIO()
    assert chat.run(bot, io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), stdout) == 0
    return stdout.getvalue()


def test_piped_chat_declines_an_undecodable_line_with_a_reason_and_goes_on(bot):
    out = piped(bot, SJIS + b"\n" + "裏ももがつる\n".encode() + b"\xff\xfe\n" + "RDLってなに?\n".encode())
    assert out.count("(理由: not valid text: undecodable bytes or a lone surrogate at character 1") == 2
    assert out.count("読み取れませんでした") == 2 and bot.kb.intent("cramp").answer in out
    assert bot.kb.intent("romanian_deadlift").answer in out


@pytest.mark.parametrize("injection", INJECTIONS)
def test_piped_chat_echoes_nothing_a_terminal_acts_on(bot, injection):
    out = piped(bot, f"/foo{injection}\n{injection}裏ももがつる\n/why\n".encode())
    assert not any(ch in out for ch in RAW), out
    assert f"「{inert(injection)}裏ももがつる」をどう読んだか" in out  # shown as escapes: \x1b, \x9b, \u202e
    assert f"/foo{inert(injection).lower()} というコマンドはありません" in out


def test_why_after_an_undecodable_question_explains_without_tokenizing(bot):
    out = piped(bot, b"ab\x82\xa0\n/why\n")
    why = out[out.index("をどう読んだか"):]
    assert "入力をそのまま使えません(not valid text" in why and "\\udc82\\udca0" in out


def paste(text: str) -> str:
    """Keys that paste ``text`` (bracketed paste: its escape characters arrive as text, not keys)."""
    return f"\x1b[200~{text}\x1b[201~\r"


@pytest.mark.parametrize("environ", [{}, {"NO_COLOR": "1"}])
def test_interactive_chat_echoes_nothing_a_terminal_acts_on(bot, environ):
    stdout = Terminal()
    keys = "".join(paste(f"/foo{i}") + paste(f"{i}裏ももがつる") for i in INJECTIONS) + "/why\r/quit\r"
    out = talk(bot, keys, stdout=stdout, output=terminal_output(stdout), environ=environ)
    start = out.index("というコマンドはありません")  # the replies, after the prompt's own redrawing
    replies = out[out.rindex("\n", 0, start):]
    assert not any(raw in out for raw in ("\x1b[2J", "\x1b]0;", "\x07", "\x9b", "\u202e", "\u2066")), out
    assert all(f"/foo{inert(i).lower()} というコマンドはありません" in replies for i in INJECTIONS)
    assert f"「{inert(INJECTIONS[-1])}裏ももがつる」をどう読んだか" in replies


def test_interactive_chat_declines_an_undecodable_line_and_goes_on(bot, tmp_path):
    with create_pipe_input() as pipe:
        pipe.send_bytes(SJIS + b"\r")
        pipe.send_text("裏ももがつる\r/why\r" + CTRL_D)
        stdout = io.StringIO()
        code = chat.run(bot, io.StringIO(), stdout, input=pipe, output=DummyOutput(),
                        history_path=tmp_path / "history", color=False)
    out = stdout.getvalue()
    assert code == 0 and "(理由: not valid text" in lines(out) and "  裏ももがつるとき\n" in out


# ---- leaving, Ctrl-C, history ---------------------------------------------------------------


def test_quit_leaves_and_nothing_after_it_is_read(bot):
    out = talk(bot, "/quit\r裏ももがつる\r")
    assert replies_of(out) == [replies_of(out)[0]] and "裏ももがつるとき" not in out


def test_full_width_quit_command_leaves(bot):
    out = talk(bot, "／ｑｕｉｔ\r裏ももがつる\r")
    assert "裏ももがつるとき" not in out


def test_ctrl_d_leaves(bot):
    out = talk(bot, CTRL_D + "裏ももがつる\r")
    assert len(replies_of(out)) == 1 and "裏ももがつるとき" not in out


def test_ctrl_c_clears_the_line_and_the_chat_goes_on(bot, tmp_path):
    history = tmp_path / "history"
    out = talk(bot, "明日の天気" + CTRL_C + "裏ももがつる\r" + CTRL_D, history_path=history)
    assert "お答えできる情報がありません" not in out and "裏ももがつるとき" in out
    assert "明日の天気" not in history.read_text(encoding="utf-8")


def test_history_is_kept_in_a_file_and_recalled_next_time(bot, tmp_path):
    history = tmp_path / "data" / "chatbot" / "history"  # the directory does not exist yet
    talk(bot, "裏ももがつる\r初心者は?\r/quit\r", history_path=history)
    text = history.read_text(encoding="utf-8")
    assert "\n+裏ももがつる\n" in text and "\n+初心者は?\n" in text
    next_time, _ = chat.open_history(history)

    async def load():
        return [s async for s in next_time.load()]

    assert asyncio.run(load()) == ["/quit", "初心者は?", "裏ももがつる"]  # read back next time, latest first


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_history_is_private_under_umask_022(bot, tmp_path, umask_022):
    history = tmp_path / "data" / "chatbot" / "history"
    talk(bot, "裏ももがつる\r" + CTRL_D, history_path=history)
    assert (mode(history.parent), mode(history)) == (0o700, 0o600)
    assert "+裏ももがつる" in history.read_text(encoding="utf-8")


def test_history_made_before_is_tightened(bot, tmp_path, umask_022):
    history = tmp_path / "chatbot" / "history"
    history.parent.mkdir(mode=0o755)
    history.write_text("\n+前の質問\n", encoding="utf-8")
    os.chmod(history, 0o644)
    talk(bot, "裏ももがつる\r" + CTRL_D, history_path=history)
    assert (mode(history.parent), mode(history)) == (0o700, 0o600)


def test_history_file_made_again_during_the_chat_is_private(tmp_path, umask_022):
    history, problem = chat.open_history(tmp_path / "chatbot" / "history")
    os.remove(tmp_path / "chatbot" / "history")
    history.store_string("裏ももがつる")
    assert problem is None and mode(tmp_path / "chatbot" / "history") == 0o600


def test_a_directory_of_someone_elses_choosing_is_left_as_it_is(tmp_path, umask_022):
    os.chmod(tmp_path, 0o755)
    chat.open_history(tmp_path / "history")
    assert (mode(tmp_path), mode(tmp_path / "history")) == (0o755, 0o600)


def test_no_history_file_when_history_path_is_none(bot, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    talk(bot, "裏ももがつる\r" + CTRL_D, history_path=None)
    assert not any(tmp_path.rglob("history"))


def test_default_history_path_is_in_the_data_dir(bot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with create_pipe_input() as pipe:
        pipe.send_text("裏ももがつる\r" + CTRL_D)
        chat.run(bot, io.StringIO(), io.StringIO(), input=pipe, output=DummyOutput())
    assert "+裏ももがつる" in (tmp_path / "chatbot" / "history").read_text(encoding="utf-8")


@pytest.mark.parametrize("environ, expected", [
    ({"XDG_DATA_HOME": "/data", "HOME": "/home/u"}, "/data/chatbot/history"),
    ({"HOME": "/home/u"}, "/home/u/.local/share/chatbot/history"),
    ({"XDG_DATA_HOME": "", "HOME": "/home/u"}, "/home/u/.local/share/chatbot/history"),
    ({"XDG_DATA_HOME": "relative/dir", "HOME": "/home/u"}, "/home/u/.local/share/chatbot/history"),
])
def test_default_history_path(environ, expected):
    assert str(chat.default_history_path(environ)) == expected


def test_session_suggests_from_history(bot, tmp_path):
    path = tmp_path / "history"
    path.write_text("\n# 2024-01-01\n+裏ももがつる\n", encoding="utf-8")
    history, problem = chat.open_history(path)
    session = chat.build_session(talk_state.Conversation(bot), history=history, output=DummyOutput())

    async def load():
        return [s async for s in history.load()]

    assert problem is None and asyncio.run(load()) == ["裏ももがつる"]
    suggestion = session.auto_suggest.get_suggestion(session.default_buffer, Document("裏も"))
    assert suggestion.text == "もがつる"
    assert session.auto_suggest.get_suggestion(session.default_buffer, Document("ヒップ")) is None


# ---- completion -----------------------------------------------------------------------------


def completions(bot, text: str):
    session = chat.build_session(talk_state.Conversation(bot), history=chat.open_history(None)[0], output=DummyOutput())
    return list(session.completer.get_completions(Document(text), CompleteEvent(completion_requested=True)))


def test_completion_is_fuzzy_and_kana_insensitive(bot):
    found = completions(bot, "すとれ")
    stretch_examples = {q for i in bot.kb.intents if "ストレッチ" in i.title for q in i.examples}
    assert found and all(c.start_position == -3 for c in found)
    assert sum(c.text in stretch_examples for c in found[:10]) >= 5
    top = [c.text for c in completions(bot, "ひっぷりふと")[:5]]
    assert top and all(q in bot.kb.intent("hip_lift").examples or "ヒップリフト" in q for q in top)


def test_completion_of_commands_and_not_of_numbers(bot):
    assert [c.text for c in completions(bot, "/to")] == ["/topics"]
    assert {c.text for c in completions(bot, "/")} == {name for name, _ in chatview.COMMANDS}
    assert completions(bot, "2") == [] and completions(bot, "") == []


@pytest.mark.parametrize("pattern, text, span", [
    ("すとれ", "すとれっち", (3, 0)),
    ("abc", "xaxbxcabc", (3, 6)),
    ("ac", "abc", (3, 0)),
    ("ca", "abc", None),
    ("", "abc", None),
])
def test_fuzzy_span(pattern, text, span):
    assert chat.fuzzy_span(pattern, text) == span


def test_fold():
    assert talk_state.fold("ｽﾄﾚｯﾁ") == talk_state.fold("ストレッチ") == talk_state.fold("すとれっち") == "すとれっち"
    assert talk_state.fold("R D L") == "rdl"


# ---- piped ----------------------------------------------------------------------------------


def test_piped_input_gets_plain_replies_and_keeps_the_conversation(bot):
    stdin = io.StringIO("裏ももがつる\n\n明日の天気は?\n1\n/quit\n裏ももがつる\n")
    stdout = io.StringIO()
    assert chat.run(bot, stdin, stdout) == 0
    offered = talk_state.offered_intents(bot.kb, bot.answer("明日の天気は?"))
    out = stdout.getvalue()
    assert out.startswith(replies.plain(bot.answer("裏ももがつる")) + "\n\n" + bot.answer("明日の天気は?").text + "\n\n")
    assert out.count(offered[0].answer) == 1 and out.count("(出典") == 2
    assert "質問>" not in out and talk_state.GREETING not in out and "\x1b" not in out


# ---- formatting -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, columns, expected", [
    ("あいうえおかきくけこ", 8, ["あいうえ", "おかきく", "けこ"]),
    ("あいうえお", 9, ["あいうえ", "お"]),  # a wide character never straddles the edge
    ("あいう、えお", 6, ["あい", "う、え", "お"]),  # 、 does not start a line: う goes down with it
    ("あい「うえ」お", 6, ["あい", "「う", "え」お"]),  # 「 does not end a line
    ("RDLは8〜12回です", 8, ["RDLは8〜", "12回です"]),  # 〜 stays with 8; 12 is not cut
    ("hello world foo", 11, ["hello world", "foo"]),
    ("参考: https://example.com/a/long/path", 12, ["参考:", "https://example.com/a/long/path"]),
    ("一行目\n\n三行目", 20, ["一行目", "", "三行目"]),
    ("", 10, [""]),
    ("・あいうえおか\n・きく", 6, ["・あい", "  うえ", "  おか", "・きく"]),  # a list item hangs under its text
    ("大腿二頭筋・半腱様筋", 10, ["大腿二頭", "筋・半腱様", "筋"]),  # inside a line ・ still never starts one
])
def test_wrap(text, columns, expected):
    assert chatview.wrap(text, columns) == expected


@pytest.mark.parametrize("columns", [12, 20, 37, 60])
def test_wrap_every_answer_fits_and_loses_nothing(bot, columns):
    for intent in bot.kb.intents:
        wrapped = chatview.wrap(intent.answer, columns)
        assert "".join(wrapped).replace(" ", "") == intent.answer.replace("\n", "").replace(" ", "")
        items = [line for line in intent.answer.split("\n") if line.startswith("・")]
        assert [line for line in wrapped if line.startswith("・")] == [chatview.wrap(i, columns)[0] for i in items]
        for line in wrapped:
            assert chatview.width(line) <= columns or re.fullmatch(r"[!-~]+", line), line
            assert line[:1] not in chatview.NO_LINE_START or line.startswith("・"), line  # only items start so (above)


@pytest.mark.parametrize("text, width", [("裏もも", 6), ("RDL", 3), ("RDLとは?", 8), ("ＲＤＬ", 6), ("ｽﾄﾚｯﾁ", 5), ("", 0)])
def test_width_counts_wide_characters_twice(text, width):
    assert chatview.width(text) == width


@pytest.mark.parametrize("tty, environ, color", [
    (True, {}, True),
    (True, {"NO_COLOR": "1"}, False),
    (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value disables colour
    (True, {"TERM": "dumb"}, False),
    (False, {}, False),
])
def test_use_color(tty, environ, color):
    stream = Terminal() if tty else io.StringIO()
    assert chatview.use_color(stream, environ) is color


class NoCprOutput(Vt100_Output):
    """A real VT100 output that does not ask the terminal for the cursor position: a pipe never
    answers, and prompt_toolkit would wait 2 s for it on every session."""

    responds_to_cpr = False


def terminal_output(stdout) -> Vt100_Output:
    return NoCprOutput(stdout, lambda: Size(rows=30, columns=60), term="xterm")


def test_colour_on_a_terminal_and_none_with_no_color(bot):
    def session(environ):
        stdout = Terminal()
        output = terminal_output(stdout)
        return talk(bot, "裏ももがつる\r/quit\r", stdout=stdout, output=output, environ=environ)

    coloured = session({})
    assert re.search(r"\x1b\[[0-9;]*m  裏ももがつるとき", coloured)
    plain = session({"NO_COLOR": "1"})
    reply = plain[plain.index("  裏ももがつるとき"):plain.index("参考: https://")]
    assert "\x1b" not in reply and "  裏ももがつるとき\n" in reply
    assert re.search(COLOUR, coloured) and not re.search(COLOUR, plain)  # nor in the prompt


COLOUR = r"\x1b\[[0-9;]*;(3[0-7]|9[0-7]|38)[;m]"  # an SGR sequence setting a foreground colour


def test_render_answer_has_title_wrapped_text_and_dim_source(bot):
    turn = talk_state.Conversation(bot).reply("裏ももがつる")
    fragments = chatview.render(turn, 30)
    assert fragments[0] == ("class:title", "  裏ももがつるとき")
    assert all(style == "class:source" for style, text in fragments if "出典" in text or "参考" in text)
    assert all(chatview.width(line) <= 32 for line in chatview.plain(fragments).split("\n") if "https://" not in line)
    assert "  参考: https://" in chatview.plain(fragments)  # the URL stays whole, with its label
    assert "\x1b" not in chatview.plain(fragments)


def numbered_titles(text: str) -> list[str]:
    """The titles of a reply's numbered list (「1. タイトル」 lines)."""
    return [m[1].strip() for m in re.finditer(r"^\d+\. (.+)$", text, re.M)]


@pytest.mark.parametrize(
    "source, expected",
    [
        (Source("3. 鍛え方", "https://example.com/r"), "出典: 3. 鍛え方 / 参考: https://example.com/r"),
        (Source("3. 鍛え方"), "出典: 3. 鍛え方"),  # the article cites no reference for it
        (None, None),
    ],
)
def test_source_line_names_the_reference_only_when_there_is_one(source, expected):
    answer = Answer("q", "a", "answered", "x", 1.0, source=source)
    assert replies.source_line(answer) == expected
    shown = chatview.plain(chatview.source_lines(source, 80)).strip()
    assert shown == (expected or "")
