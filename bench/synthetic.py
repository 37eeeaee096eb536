"""Inputs for the benchmarks, made at run time from fixed word lists and a fixed seed.

``questions(n)``: n distinct question lines, about four in five of them the bundled
knowledge base's example questions dressed up as people type them (a lead-in, an ending),
the rest everyday questions it cannot answer. ``faq_table(n)``: a city-hall FAQ of n
entries (question, answer, id), two or three ways of asking each, up to 2,000 (a subject and
an aspect of it). ``large_faq_table(n)``: the same up to 120,000 entries, each subject also
asked for someone in particular (外国籍の方の住民票の申請方法).
"""

from __future__ import annotations

import csv
import itertools
import random
from pathlib import Path

SEED = 20240601

LEAD_INS = (
    "", "すみません、", "質問です。", "初心者なのですが、", "ジムに通い始めたばかりで、", "最近運動不足で、",
    "友達に聞かれたんですが、", "ちょっと気になって、", "40代女性です。", "部活でサッカーをしていて、",
)
ENDINGS = ("", "?", "。", "!", " 教えて", "、教えてください", "って本当?", "(急ぎです)", "w", "…")

PLACES = (
    "駅", "市役所", "図書館", "公園", "病院", "郵便局", "銀行", "近所のスーパー", "コンビニ", "映画館", "美術館",
    "動物園", "空港", "ホテル", "レストラン", "カフェ", "本屋", "薬局", "歯医者", "美容院", "区民センター",
    "プール", "体育館", "博物館", "温泉", "水族館", "遊園地", "大学", "保育園", "交番",
)
THINGS = (
    "営業時間", "駐車場", "料金", "予約方法", "混雑状況", "定休日", "最寄りのバス停", "電話番号", "支払い方法",
    "Wi-Fi", "ポイントカード", "キャンセル料", "年末年始の予定", "持ち物", "服装", "入口", "トイレ", "喫煙所",
    "ロッカー", "返品の方法", "会員登録", "割引", "送迎バス", "車椅子での入館", "ペット同伴", "子供料金",
    "団体予約", "クーポン", "おすすめメニュー", "写真撮影",
)
ASKING = (
    "は何時までですか", "はどこですか", "はいくらですか", "を教えて", "はありますか", "について知りたい",
    "ってどうなってる?", "は使えますか", "を調べたい", "が分からない", "は変わりましたか", "はどうすればいい?",
    "の情報ください", "を確認したいです", "は今日もやってる?",
)

SUBJECTS = (
    "住民票", "印鑑登録", "戸籍謄本", "転入届", "転出届", "婚姻届", "出生届", "マイナンバーカード", "パスポート",
    "国民健康保険", "国民年金", "介護保険", "児童手当", "保育園の入園", "学童保育", "粗大ごみ", "資源ごみ",
    "犬の登録", "自転車の駐輪場", "市営住宅", "図書館カード", "市民プール", "健康診断", "予防接種", "がん検診",
    "住民税", "固定資産税", "軽自動車税", "ふるさと納税", "水道の開栓", "下水道", "道路の陥没", "街灯の故障",
    "公園の使用", "集会所の予約", "選挙の投票", "期日前投票", "消防団", "防災マップ", "避難所",
    "空き家の相談", "ひとり親支援", "高齢者の見守り", "障害者手帳", "生活保護", "奨学金", "就学援助",
    "市営バス", "コミュニティバス", "成人式",
)
ASPECTS = (
    ("の申請方法", "申請は市役所の窓口か、市のホームページのオンライン申請からできます。"),
    ("に必要な書類", "本人確認書類と、届出の内容によっては印鑑が必要です。"),
    ("の手数料", "手数料は一件あたり三百円です。減免の対象になる場合もあります。"),
    ("の受付時間", "平日の午前八時半から午後五時十五分まで受け付けています。"),
    ("の土日の受付", "第二・第四土曜日の午前中だけ、本庁舎一階で受け付けています。"),
    ("をオンラインでする方法", "市のホームページからマイナンバーカードでログインして手続きできます。"),
    ("の期限", "事由が生じてから十四日以内に手続きをしてください。"),
    ("の代理人による手続き", "代理人の場合は委任状と代理人の本人確認書類が必要です。"),
    ("の郵送での手続き", "郵送の場合は申請書と返信用封筒、定額小為替を同封してください。"),
    ("の問い合わせ先", "担当課の直通電話か、市のコールセンターにお問い合わせください。"),
    ("の支所での手続き", "各支所でも同じ手続きができますが、一部の書類は本庁舎のみです。"),
    ("のコンビニ交付", "マイナンバーカードがあれば全国のコンビニで午前六時半から取得できます。"),
    ("の変更手続き", "内容に変更があったときは、変更届を提出してください。"),
    ("の廃止手続き", "不要になったときは廃止届を提出してください。"),
    ("の再発行", "紛失した場合は、本人確認書類を持って窓口で再発行を申請してください。"),
    ("の対象者", "市内に住民登録がある方が対象です。所得の制限がある場合もあります。"),
    ("の必要な期間", "通常は申請から一週間ほどで完了します。混雑期は二週間ほどかかります。"),
    ("の外国人の手続き", "在留カードをお持ちのうえ、市民課の窓口にお越しください。"),
    ("の引っ越しの時の手続き", "引っ越しの際は、転入届と同時に手続きをすると便利です。"),
    ("の注意点", "書類に不備があると受け付けられません。事前に記入例を確認してください。"),
    ("の予約", "窓口の予約は市のホームページか電話でできます。"),
    ("の駐車場", "本庁舎の駐車場は手続きの方は一時間無料です。"),
    ("の英語の案内", "英語の案内は市の国際交流協会の窓口で受けられます。"),
    ("の電子申請のトラブル", "電子申請がうまくいかないときは、ブラウザを最新版にしてお試しください。"),
    ("の申請書のダウンロード", "申請書は市のホームページの各手続きのページからダウンロードできます。"),
    ("の記入例", "記入例は窓口と市のホームページに置いています。"),
    ("の本人確認", "運転免許証やマイナンバーカードなど、顔写真付きの書類をお持ちください。"),
    ("の休日窓口", "休日窓口は毎月最終日曜日の午前九時から正午まで開いています。"),
    ("の混雑状況", "月曜日と月末は混み合います。水曜日の午後が比較的空いています。"),
    ("の支払い方法", "現金のほか、キャッシュレス決済が使えます。"),
    ("のキャンセル", "取り消すときは、担当課へ電話で連絡してください。"),
    ("の結果の通知", "結果は郵送でお知らせします。"),
    ("の補助金", "条件を満たす方には補助金が出ます。詳しくは担当課にお問い合わせください。"),
    ("の期限切れ", "期限を過ぎた場合も、まずは窓口でご相談ください。"),
    ("の子どもの手続き", "お子さんの分は保護者の方が手続きしてください。"),
    ("の高齢者の手続き", "ご自宅に伺う出張受付もあります。事前にご相談ください。"),
    ("の夜間の受付", "木曜日は午後七時まで延長して受け付けています。"),
    ("の添付書類", "添付書類はコピーでも構いませんが、原本の提示をお願いする場合があります。"),
    ("の写真の規格", "写真は縦四センチ横三センチ、六か月以内に撮影したものが必要です。"),
    ("の相談窓口", "市民相談室で、専門の相談員が無料でご相談に応じます。"),
)
MORE_SUBJECTS = (
    "転居届", "世帯変更届", "死亡届", "相続の手続き", "葬祭費", "埋葬許可", "市営墓地", "斎場の予約",
    "後期高齢者医療", "高額療養費", "限度額適用認定証", "特定健診", "人間ドックの助成", "介護認定",
    "配食サービス", "緊急通報装置", "福祉タクシー券", "敬老パス", "シルバー人材センター", "母子手帳",
    "妊婦健診", "乳幼児医療費助成", "一時保育", "病児保育", "子育て支援センター", "家庭ごみの分別",
    "狂犬病予防注射", "猫の不妊手術の助成", "蜂の巣の駆除", "不法投棄", "騒音の相談", "空き地の草刈り",
    "浄化槽の補助", "太陽光発電の補助", "住宅リフォームの補助", "耐震診断", "ブロック塀の撤去",
    "市民農園", "水道料金", "漏水の修理", "納税証明書", "所得証明書", "税の口座振替", "消費生活相談",
    "無料法律相談", "ボランティア登録", "公民館の講座", "文化ホールの予約", "テニスコートの予約", "道路占用許可",
)
AUDIENCES = (  # whom a large table's entry is for: its subjects times these, 120,000 entries with ASPECTS
    "転入したばかりの方", "一人暮らしの方", "外国籍の方", "75歳以上の方", "妊娠中の方", "障害のある方",
    "単身赴任中の方", "学生", "自営業の方", "会社員", "年金を受け取っている方", "子育て中の世帯",
    "ひとり親家庭", "市外に住んでいる方", "市内の事業者", "入院中の方", "施設に入所中の方",
    "海外から帰国した方", "災害で被災した方", "家族を介護している方", "平日に来庁できない方",
    "目の不自由な方", "耳の不自由な方", "高校生", "新成人", "新婚世帯", "子どもが三人以上の世帯",
    "農家の方", "遠方に住む家族", "成年後見人",
)
ASK_FORMS = (
    "{s}{a}を教えてください", "{s}{a}は?", "{s}{a}について知りたい", "{s}{a}はどうなっていますか",
)


def questions(n: int, examples: list[str], seed: int = SEED) -> list[str]:
    """``n`` distinct lines: knowledge-base examples with a lead-in and an ending (4 in 5), and
    everyday questions out of its scope, shuffled."""
    rng = random.Random(seed)
    in_scope = [f"{lead}{q.rstrip('?？。')}{end}" for q in examples for lead in LEAD_INS for end in ENDINGS]
    out_of_scope = [f"{lead}{p}の{t}{a}" for p in PLACES for t in THINGS for a in ASKING for lead in ("", "すみません、")]
    in_scope, out_of_scope = _distinct(in_scope), _distinct(out_of_scope)
    rng.shuffle(in_scope)
    rng.shuffle(out_of_scope)
    chosen = out_of_scope[: min(n // 5, len(out_of_scope))]
    taken = set(chosen)
    chosen += [q for q in in_scope if q not in taken][: n - len(chosen)]
    if len(chosen) < n:
        raise ValueError(f"only {len(chosen)} distinct questions can be made, {n} wanted")
    rng.shuffle(chosen)
    return chosen


def _distinct(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(line for line in lines if line.strip()))


def faq_table(path: Path, n: int = 2000, seed: int = SEED) -> list[tuple[str, str]]:
    """Write a CSV FAQ of ``n`` entries (id, question, answer; two or three questions an
    entry) to ``path``; return (question, entry id) pairs to ask it, worded apart from the table."""
    return _write_faq(path, list(itertools.product(SUBJECTS, ASPECTS)), n, seed)


def large_faq_table(path: Path, n: int = 100_000, seed: int = SEED) -> list[tuple[str, str]]:
    """``faq_table`` with many more entries: every subject (``SUBJECTS`` and ``MORE_SUBJECTS``)
    for each of ``AUDIENCES``, times ``ASPECTS``."""
    subjects = [f"{who}の{subject}" for who in AUDIENCES for subject in SUBJECTS + MORE_SUBJECTS]
    return _write_faq(path, list(itertools.product(subjects, ASPECTS)), n, seed)


def _write_faq(path: Path, pairs: list[tuple[str, tuple[str, str]]], n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` of the (subject, (aspect, answer)) ``pairs``, drawn with ``seed``, written as a FAQ table."""
    rng = random.Random(seed)
    if n > len(pairs):
        raise ValueError(f"at most {len(pairs)} entries")
    rng.shuffle(pairs)
    asked = []
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "question", "answer"])
        for number, (subject, (aspect, answer)) in enumerate(pairs[:n], start=1):
            entry = f"q{number:04d}"
            forms = rng.sample(ASK_FORMS, 3)
            out.writerow([entry, forms[0].format(s=subject, a=aspect), f"{subject}{aspect}について。{answer}"])
            for form in forms[1 : rng.choice((2, 3))]:
                out.writerow([entry, form.format(s=subject, a=aspect), ""])
            asked.append((f"{rng.choice(LEAD_INS)}{subject}{aspect}{rng.choice(('', 'って?', 'が知りたい', 'どうすれば'))}", entry))
    return asked
