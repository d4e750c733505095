# つなぐ — 日本語（最初の言語）。子どもと看護師さんが読みます。短く、やさしく。

app-title = つなぐ
app-subtitle = みんなの びょうしつ ルーム

start-nickname-label = なまえ（ニックネーム）
start-nickname-hint = キーボードで 入力してね
start-nickname-invalid = なまえは 1〜24文字の もじと すうじで 入れてね（えもじや とくべつな きごうは つかえません）
start-color-label = からだの いろ
start-language-label = ことば
start-host = このPCで ルームを ひらく
start-join = しょうたいで さんかする
start-starting = ルームを じゅんびしています…

lang-ja = 日本語
lang-en = English

hud-people = { $count }人が ここに います
hud-you = { $name }（あなた）
hud-help = あるく: WASD・やじるし  /  そこへ行く: ゆかを クリック  /  まわる: Q・E  /  見まわす: 右ボタンで ドラッグ  /  見え方: V  /  マイク: M  /  おして はなす: スペース  /  しぐさ: 1〜6  /  てを あげる: 7  /  ボール・ダーツ: クリックで もつ  /  チャット: Enter
hud-help-button = ？
drawer-people = みんな（{ $count }）
drawer-expressions = きもち
drawer-chat = チャット
drawer-look = すがた
drawer-wishes = たなばた
drawer-voice = こえ
drawer-settings = せってい
drawer-staff = スタッフ
drawer-invite = しょうたい
hud-notices-folded = おしらせ（{ $count }）
text-size-normal = もじ: ふつう
text-size-large = もじ: おおきい
text-size-largest = もじ: とても おおきい
hud-view-first = 見え方: じぶんの 目
hud-view-third = 見え方: うしろから
hud-hosting = このPCで ルームを ひらいています

status-no-sound = 音が 出せません（スピーカーが 見つかりません）。ほかは ふつうに つかえます。
status-no-xr = VRゴーグルが 見つからないので、画面で あそびます。
status-xr-ready = VRゴーグルが つながっています。
status-server-error = ルームを ひらけませんでした: { $reason }

bot-name = おためしさん { $n }

default-nickname = ゲスト

start-invite-label = しょうたい（tsunagu:// で はじまる もの）
start-invite-hint = しょうたいを はりつけてね（Ctrl+V）
start-joining = つないでいます…
invite-error = しょうたいの かたちが ちがうようです。tsunagu:// で はじまる しょうたいを まるごと はりつけてね。
join-error-wrong-code = しょうたいの コードが ちがうようです。もういちど たしかめてね。
join-error-room-full = ルームが いっぱいです。すこし まってから もういちど ためしてね。
join-error-version = アプリの バージョンが ちがいます。あたらしい つなぐ を つかってね。
join-error-unreachable = ルームに とどきませんでした。ネットワークと しょうたいを たしかめてね。
join-error-certificate = しょうたいと ルームが あいません。あたらしい しょうたいを もらってね。
join-error-shutdown = ルームが しまりました。またね。
join-error-closed = この ルームは もう おわっています。しょうたいを くれた 人に きいてみてね。
join-error-busy = サーバーが こんでいて つなげませんでした。すこし あとで もういちど どうぞ。
join-error-removed = ルームから でることに なりました。
join-error-lost = ルームとの つながりが きれました。もういちど ためしてね。
join-error-intercepted = びょういんの ネットワークが あいだに はいって、ルームに つなげませんでした。かんごしさんに みせてね。
    （IT たんとうの かたへ: { $reason } への つうしんを TLS の けんさ（インスペクション）から はずしてください。つなぐは この ルームの しょうめいしょ だけを しんじるので、とちゅうで けんさされると つながりません。）
join-error-proxy-unreachable = プロキシに とどきませんでした。プロキシの せってい（ホストと ポート）を たしかめてね。
join-error-proxy-password = プロキシの ユーザーめいか パスワードが ちがうようです。たしかめてね。
join-error-proxy-refused = プロキシが ルームへの つなぎを ことわりました。IT たんとうの かたに { $reason } を きょかして もらってね。
netcheck-button = つながりを しらべる
netcheck-running = つながりを しらべています…
netcheck-title = つながりの しらべ: { $room }
netcheck-udp-ok = UDP（QUIC）: つながります（{ $ms } ミリびょう）。こえに いちばん よい つなぎかたです。
netcheck-udp-no = UDP（QUIC）: とどきません。
netcheck-tcp-ok = TCP（WebSocket）: つながります（{ $ms } ミリびょう）。
netcheck-tcp-no = TCP（WebSocket）: とどきません。
netcheck-proxy = プロキシ: { $proxy }（この PC の せってい）
netcheck-no-proxy = プロキシ: つかっていません。
netcheck-inspected = TLS: とちゅうで けんさ（インスペクション）されています。
netcheck-not-inspected = TLS: けんさされていません。
netcheck-all-good = このPCから あつまりに さんかできます。
netcheck-tcp-only = このPCから さんかできます（TCP で）。こえが すこし おくれることが あります。UDP { $udp } が あくと もっと よくなります。
netcheck-none = このPCからは いま さんかできません。
netcheck-ask-it = IT たんとうの かたへ: { $host } への UDP { $udp }（できれば）と TCP { $tcp } の つうしんを きょかしてください。
netcheck-ask-inspection = IT たんとうの かたへ: { $host }:{ $tcp } への TLS を けんさから はずしてください。つなぐは ルームの しょうめいしょ だけを しんじるので、けんさされると つながりません。
netcheck-ask-it-udp = IT たんとうの かたへ: { $host } への UDP { $udp } を きょかしてもらえると、こえが もっと よくなります。
netcheck-ask-proxy-password = プロキシの ユーザーめいと パスワードを たしかめてください。
netcheck-ask-proxy-address = プロキシに とどきません。プロキシの ホストと ポートを たしかめてください。
hud-invite = ほかの PC からは この しょうたいで さんかできます:
hud-copy = しょうたいを コピー
hud-copied = コピーしました
hud-reconnecting = つなぎなおしています…
hud-busy = サーバーが こんでいます。もういちど つないでいます…
badge-facilitator = スタッフ
hud-slow-down = ちょっと まってから、もういちど どうぞ

# Voice
voice-mic-on = マイク オン
voice-mic-off = マイク オフ
voice-mode-open = いつでも はなせる
voice-mode-ptt = おしている あいだ はなせる
voice-talk = おして はなす
voice-talking = はなしています
voice-test = マイクの テスト
voice-test-recording = なにか はなしてみてね…
voice-test-playing = きこえるかな？
voice-change-device = かえる
voice-mic-device = マイク: { $name }
voice-speaker-device = スピーカー: { $name }
voice-device-none = ありません
status-no-mic = マイクが 見つかりません。ほかの ひとの こえは きこえます。
voice-peer-soft = （ちいさく）
voice-peer-off = （きこえない）

# Gestures, the raised hand and stamps
gesture-wave = てを ふる
gesture-clap = はくしゅ
gesture-nod = うなずく
gesture-head-shake = くびを ふる
gesture-thumbs-up = いいね
gesture-heart-hands = ハート
hand-raise = てを あげる
hand-lower = てを おろす
hands-raised = てを あげている ひと: { $names }
stamp-bar = スタンプ
stamp-thanks = ありがとう

# Chat
chat-send = おくる
chat-words = ことばを えらんで おくる:
word-hello = こんにちは
word-thanks = ありがとう
word-yes = うん
word-bye = またね
word-fun = たのしい！
word-cheer = がんばろう
chat-hint = ここを おして かく（Enter）
chat-hint-typing = かいたら Enter で おくる
chat-nothing-yet = ここに チャットが でます
chat-empty = なにか かいてね
chat-too-long = ながすぎます。100もじ までです
chat-not-allowed = つかえない もじが あります

# The avatar's look
look-headwear-label = かみがた・ぼうし
look-headwear-colour-label = かみ・ぼうしの いろ
look-accessories-label = つけるもの
headwear-tuft = ちょこん
headwear-short = みじかい かみ
headwear-long = ながい かみ
headwear-bun = おだんご
headwear-beanie = ニット ぼう
headwear-cap = キャップ
headwear-straw-hat = むぎわら ぼうし
accessory-glasses = めがね
accessory-ribbon = リボン
accessory-scarf = マフラー
hud-headwear-next = かみがた・ぼうし を かえる
settings-unreadable = まえの せっていが よめなかったので、はじめの せっていに しました。
bot-chat-1 = こんにちは！ きょうは いい てんき だね
bot-chat-2 = たなばたの おねがい、もう きめた？
bot-chat-3 = またあとであそぼうねたのしかったよ

# Playing together: the ball, blocks, darts and Tanabata wishes
hud-not-allowed = それは いま できないよ
hud-quieted = スタッフが 「すこし しずかに してね」と いっているよ
play-taken = ほかの ひとが もっているよ
play-too-far = もうすこし ちかくに いってね
play-not-holding = もっていない ものは なげられないよ
play-gone = それは もう ないみたい
play-hold-hint = ひっぱって はなすと なげるよ ・ クリックで おく
play-darts = ダーツ: { $scores }
play-dart-scored = { $name }: { $ring } { $points }てん！
play-ring-bull = まんなか！
play-ring-inner = おしい！
play-ring-middle = いいね！
play-ring-outer = あたった！
wish-title = たなばたの ささ
wish-none-yet = まだ ねがいごとは ないよ
wish-write = ねがいごとを かく
wish-pick-paper = かみの いろ:
wish-hint = ねがいごとを かいてね（Enter で かざる）
wish-hang = かざる
wish-no-space = もう かざれないよ（ひとり 3まい まで）
wish-take-down = はずす
wish-save-picture = ささの しゃしんを ほぞん
wish-saved = しゃしんを ほぞんしたよ: { $path }
wish-save-failed = しゃしんを ほぞん できませんでした
paper-red = あか
paper-blue = あお
paper-yellow = きいろ
paper-white = しろ
paper-purple = むらさき
bot-wish-1 = みんなが げんきに なりますように
bot-wish-2 = うちゅうひこうしに なりたい
bot-wish-3 = また みんなで あそべますように

# Facilitation and safety
join-error-locked = いまは あたらしく はいれません。スタッフに きいてね
hud-muted-by-staff = スタッフから「すこし しずかに してね」。マイク・チャット・スタンプは いま とまっているよ
staff-panel-title = スタッフの パネル
staff-badge = スタッフ
staff-mute = しずかに してもらう
staff-unmute = しずかに を おわる
staff-make-staff = スタッフに する
staff-make-participant = スタッフを はずす
staff-remove = でてもらう
staff-lock = へやを しめる（あたらしい ひとは はいれない）
staff-unlock = へやを あける
staff-removed = でてもらった ひと: { $name }
staff-let-back-in = もどれるように する
join-meetup-ended = きょうの あつまりは おしまいです。きてくれて ありがとう！ またね。
staff-bring-here = そばに よぶ
staff-gather = みんなを あつめる
staff-end = あつまりを おわりにする
staff-are-you-sure = ほんとうに？ もういちど おしてね
calm-on = しずかに する（スタッフ だけ）
calm-off = みんなを もどす
calm-show-hidden = みえなく した ひとを もどす
staff-talking = はなしている
staff-hand-up = てを あげている
staff-muted = しずかに している
staff-minutes = { $minutes ->
    [0] いま きた
   *[other] { $minutes }ふん まえから
}
join-error-turned-away = いまは はいれません。スタッフに きいてね
join-error-old-invite = この しょうたいは もう つかえません。スタッフに あたらしい しょうたいを もらってね
join-error-name-taken = おなじ なまえ（または よく にた なまえ）の ひとが もう いるよ。ちがう なまえに してね
join-error-name-reserved = 「スタッフ」や「ナース」「せんせい」などの ことばは スタッフの なまえだけに つかえるよ。ちがう なまえに してね
hud-waiting = スタッフが なかに いれてくれるまで、すこし まっていてね
hud-someone-waiting = まっている ひとが います（スタッフの パネル）
staff-waiting-room-on = まちあいしつを つかう
staff-waiting-room-off = まちあいしつを やめる（まっている ひとは はいる）
staff-waiting = まっている ひと: { $name }
staff-let-in = いれる
staff-turn-away = ことわる
staff-new-invites = しょうたいを あたらしく する
space-size = スペース: { $cm }cm
space-off = スペース: なし
status-xr-ended = ゴーグルが とまったので、画面で つづけます。「ゴーグルを つかう」で もどれます。
staff-recentre = ゴーグルの むきを なおす
wrist-recentre = まっすぐ にする
wrist-turn = まわる { $degrees }°
wrist-walk-on = あるく: オン
wrist-walk-off = あるく: オフ
wrist-bed = ベッド { $degrees }°
wrist-eyes-higher = 目を たかく
wrist-eyes-lower = 目を ひくく
wrist-screen = 画面で つづける
wrist-board-open = パネルを ひらく
wrist-board-close = パネルを とじる
hud-use-headset = ゴーグルを つかう

# Telling the staff, quietly (a name tag's button, then one kind)
tell-staff = しらせる
tell-staff-words = いやな ことば
tell-staff-too-close = ちかすぎる
tell-staff-other = そのほか
tell-staff-done = スタッフに しらせたよ。その ひとは あなたの がめんでは みえなく したよ
staff-concern = { $from } さんが { $about } さんの ことで しらせています（{ $kind }・{ $minutes } ふんまえ）
staff-concern-words = いやな ことば
staff-concern-too-close = ちかすぎる
staff-concern-other = そのほか
staff-concerns-clear = しらせを けす
staff-hint-same-pc = まえにも いた PC
staff-hint-no-installation = ばんごうの ない アプリ
staff-hint-same-network = でてもらった ひとと おなじ ネットワーク
staff-kept = つながるのを まっている せき: { $name }
staff-release-place = せきを あける
staff-take-down-wishes = ねがいを おろす
staff-put-back = かたづける
staff-notice-waiting-room-on = だれかに でてもらったので、まちあいしつを つかっています。あんしん できたら やめてね
staff-notice-invites-not-saved = あたらしい しょうたいを ほぞん できませんでした。サーバーを うごかしなおすと まえの しょうたいに もどります
