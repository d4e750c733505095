# つなぐ — 日本語（最初の言語）。子どもと看護師さんが読みます。短く、やさしく。

app-title = つなぐ
app-subtitle = みんなの びょうしつ ルーム

start-nickname-label = なまえ（ニックネーム）
start-nickname-hint = キーボードで 入力してね
start-nickname-invalid = なまえを 1〜24文字で 入れてね
start-color-label = からだの いろ
start-language-label = ことば
start-host = このPCで ルームを ひらく
start-join = しょうたいで さんかする
start-join-unavailable = しょうたいで さんかする 機能は もうすぐ できます。いまは「このPCで ルームを ひらく」を えらんでね。
start-starting = ルームを じゅんびしています…

lang-ja = 日本語
lang-en = English

hud-people = { $count }人が ここに います
hud-you = { $name }（あなた）
hud-help = あるく: WASD・やじるし  /  そこへ行く: ゆかを クリック  /  まわる: Q・E  /  見まわす: 右ボタンで ドラッグ  /  見え方: V
hud-view-first = じぶんの 目で 見ています
hud-view-third = うしろから 見ています
hud-hosting = このPCで ルームを ひらいています

status-no-sound = 音が 出せません（スピーカーが 見つかりません）。ほかは ふつうに つかえます。
status-no-xr = VRゴーグルが 見つからないので、画面で あそびます。
status-xr-ready = VRゴーグルが つながっています。
status-server-error = ルームを ひらけませんでした: { $reason }
status-disconnected = ルームとの つながりが きれました。

bot-name = おためしさん { $n }

default-nickname = ゲスト
